"""Treatment protocols as data: one TOML file per protocol in `protocol_data/`, validated when it is read.

A file holds the protocol's id (its file name), name, modality, its rule (id, text, source tags), its week or
day blocks, its maintenance interval, the vital-sign time points charted at each session, whether
preparation is required before the first dose and within how many days integration is due. A number that is
clinic policy names the `ClinicPolicy` field it reads (`{ policy = "field" }`); a fixed number of minutes in
the monitoring cites its sources. Any error names the file and the field, so a protocol file that does not
say what the library can apply never loads. docs/architecture.md, "Adding a protocol", shows the format.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise
from pathlib import Path
from typing import Any

from ketaclinic.clinical.common import Area, Level, Modality, Rule, parse_modality
from ketaclinic.clinical.policy import ClinicPolicy
from ketaclinic.clinical.sources import unknown_tags

DATA_DIR = Path(__file__).parent / "protocol_data"
DAYS_PER_WEEK = 7
DEFAULT_INTEGRATION_DUE_DAYS = 7
"""Days after a dose within which its integration session is due when the protocol file does not say."""
INTEGRATION_POLICY_FIELD = "integration_due_within_days"
"""The clinic-policy field (default DEFAULT_INTEGRATION_DUE_DAYS) a file that does not say follows."""
ID_MAX_LENGTH = 30  # treatment.TreatmentPlan.protocol
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class ProtocolFileError(ValueError):
    """A protocol file that cannot be applied: the message names the file and the field."""

    def __init__(self, file: str, field: str, problem: str) -> None:
        super().__init__(f"{file}: {field}: {problem}")
        self.file, self.field, self.problem = file, field, problem


class Phase(StrEnum):
    INDUCTION = "induction"
    MAINTENANCE = "maintenance"


class VitalPointKind(StrEnum):
    """The vital-sign time points a session charts (the values `vitals.scheduled_vital_points` uses)."""

    PRE_DOSE = "pre_dose"
    DURING_INFUSION = "during_infusion"
    POST_DOSE = "post_dose"
    PRE_DISCHARGE = "pre_discharge"


class Since(StrEnum):
    """What a post-dose reading's minutes count from."""

    DOSE = "dose"
    INFUSION_END = "infusion_end"


@dataclass(frozen=True, slots=True)
class Amount:
    """A whole number fixed in the protocol file, or the `ClinicPolicy` field that holds it."""

    fixed: int | None = None
    policy_field: str | None = None

    def value(self, policy: ClinicPolicy) -> int | None:
        """The number in force (None when a policy field that may be unset is unset)."""
        if self.policy_field is None:
            return self.fixed
        found = getattr(policy, self.policy_field)
        return None if found is None else int(found)

    def always(self, policy: ClinicPolicy) -> int:
        """The number in force, for amounts the loader takes only from policy fields that are always set."""
        found = self.value(policy)
        if found is None:
            raise ValueError(f"clinic policy field {self.policy_field} is not set")
        return found


@dataclass(frozen=True, slots=True)
class Flag:
    """Yes or no fixed in the protocol file, or the boolean `ClinicPolicy` field that holds it."""

    fixed: bool = False
    policy_field: str | None = None

    def value(self, policy: ClinicPolicy) -> bool:
        return self.fixed if self.policy_field is None else bool(getattr(policy, self.policy_field))


@dataclass(frozen=True, slots=True)
class Block:
    """Sessions within days [first_day, first_day + length) of the course, ideally at the `ideal` offsets."""

    first_day: int
    length: int
    ideal: tuple[int, ...]
    min_gap: int
    phase: Phase

    @property
    def count(self) -> int:
        return len(self.ideal)


@dataclass(frozen=True, slots=True)
class MonitoringPoint:
    """One scheduled vital-sign reading (or a repeating run of them) at each session.

    `at_minutes`: one reading that many minutes after `after`; `every_minutes` (with `for_minutes` after the
    dose, or while the infusion runs): repeated readings. A pre-dose reading has no minutes.
    """

    point: VitalPointKind
    after: Since = Since.DOSE
    at_minutes: Amount | None = None
    every_minutes: Amount | None = None
    for_minutes: Amount | None = None
    sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ProtocolSpec:
    id: str
    name: str
    modality: Modality
    rule: Rule
    blocks: tuple[Block, ...]
    maintenance_interval: Amount
    monitoring: tuple[MonitoringPoint, ...] = ()
    preparation_required: Flag = Flag()
    integration_due_within: Amount = Amount(policy_field=INTEGRATION_POLICY_FIELD)
    jurisdiction_dependent: bool = False
    order: int = 0
    file: str = ""

    def maintenance_interval_weeks(self, policy: ClinicPolicy) -> int:
        return self.maintenance_interval.always(policy)

    def requires_preparation(self, policy: ClinicPolicy) -> bool:
        """Whether a preparation session must come before the first dose."""
        return self.preparation_required.value(policy)

    def integration_due_within_days(self, policy: ClinicPolicy) -> int:
        """Days after each dose session within which its integration session is due."""
        return self.integration_due_within.always(policy)


# --- Loading ---------------------------------------------------------------------------------------------


def load_protocols(directory: Path = DATA_DIR) -> dict[str, ProtocolSpec]:
    """Every `*.toml` protocol in `directory`, validated, keyed by id in the files' `order`."""
    specs = [load_protocol(path) for path in sorted(directory.glob("*.toml"))]
    rule_files: dict[str, str] = {}
    for spec in specs:
        if spec.rule.id in rule_files:
            raise ProtocolFileError(
                spec.file, "rule.id", f"{spec.rule.id} is already used by {rule_files[spec.rule.id]}"
            )
        rule_files[spec.rule.id] = spec.file
    return {spec.id: spec for spec in sorted(specs, key=lambda s: (s.order, s.id))}


def load_protocol(path: Path) -> ProtocolSpec:
    """One protocol file, validated; a ProtocolFileError names the file and the field."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as bad:
        raise ProtocolFileError(path.name, "(file)", f"not valid TOML: {bad}") from None
    return _Reader(path.name).protocol(data, path.stem)


_POLICY_FIELDS = {f.name: str(f.type) for f in dataclasses.fields(ClinicPolicy)}


class _Reader:
    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, field: str, problem: str) -> ProtocolFileError:
        return ProtocolFileError(self.file, field, problem)

    def protocol(self, data: dict[str, Any], stem: str) -> ProtocolSpec:
        self.keys(
            data,
            "",
            required={"id", "name", "modality", "rule", "blocks", "maintenance"},
            optional={
                "order",
                "monitoring",
                "preparation_required",
                "integration_due_within_days",
                "jurisdiction_dependent",
            },
        )
        protocol_id = self.text(data, "id")
        if not _ID.match(protocol_id) or len(protocol_id) > ID_MAX_LENGTH:
            raise self.fail("id", f"must be lower-case letters, digits and _ (at most {ID_MAX_LENGTH})")
        if protocol_id != stem:
            raise self.fail("id", f"{protocol_id!r} must match the file name ({stem}.toml)")
        try:
            modality = parse_modality(self.text(data, "modality"))
        except ValueError as bad:
            raise self.fail("modality", str(bad)) from None
        maintenance = self.table(data, "maintenance")
        self.keys(maintenance, "maintenance.", required={"interval_weeks"})
        interval = self.amount(maintenance["interval_weeks"], "maintenance.interval_weeks", minimum=1)
        preparation = self.flag(data.get("preparation_required", False), "preparation_required")
        stated = data.get("integration_due_within_days")
        # A file that does not say follows the clinic's policy (clinical/kap.py, KAP-INTEGRATION-DUE),
        # whose default is DEFAULT_INTEGRATION_DUE_DAYS; the protocol's own rule then reads no more fields.
        integration = (
            Amount(policy_field=INTEGRATION_POLICY_FIELD)
            if stated is None
            else self.amount(stated, "integration_due_within_days", minimum=1)
        )
        policy = tuple(
            name
            for name in (
                interval.policy_field,
                preparation.policy_field,
                None if stated is None else integration.policy_field,
            )
            if name is not None
        )
        return ProtocolSpec(
            id=protocol_id,
            name=self.text(data, "name"),
            modality=modality,
            rule=self.rule(self.table(data, "rule"), modality, policy),
            blocks=self.blocks(data["blocks"]),
            maintenance_interval=interval,
            monitoring=self.monitoring(data.get("monitoring", [])),
            preparation_required=preparation,
            integration_due_within=integration,
            jurisdiction_dependent=self.boolean(
                data.get("jurisdiction_dependent", False), "jurisdiction_dependent"
            ),
            order=self.whole(data.get("order", 0), "order", minimum=0),
            file=self.file,
        )

    # --- Parts ---

    def rule(self, data: dict[str, Any], modality: Modality, policy: tuple[str, ...]) -> Rule:
        self.keys(data, "rule.", required={"id", "text", "sources"})
        rule_id, text = self.text(data, "id", "rule."), self.text(data, "text", "rule.")
        sources = self.sources(data["sources"], "rule.sources", required=True)
        try:
            return Rule(rule_id, Area.PROTOCOLS, Level.SCHEDULE, frozenset({modality}), text, sources, policy)
        except ValueError as bad:
            raise self.fail("rule.id", str(bad)) from None

    def blocks(self, raw: object) -> tuple[Block, ...]:
        if not isinstance(raw, list) or not raw:
            raise self.fail("blocks", "give at least one [[blocks]] table")
        blocks: list[Block] = []
        for i, item in enumerate(raw):
            where = f"blocks.{i}."
            if not isinstance(item, dict):
                raise self.fail(f"blocks.{i}", "must be a table")
            self.keys(
                item, where, required={"sessions", "ideal", "min_gap", "phase"}, optional={"weeks", "days"}
            )
            for block in self.block(item, where):
                previous_end = blocks[-1].first_day + blocks[-1].length - 1 if blocks else -1
                if block.first_day <= previous_end:
                    raise self.fail(
                        where + ("weeks" if "weeks" in item else "days"),
                        f"overlaps the block before it, which runs to day {previous_end}",
                    )
                blocks.append(block)
        if blocks[0].first_day != 0:
            raise self.fail("blocks.0", "the first block must start on day 0 (the first session's day)")
        return tuple(blocks)

    def block(self, item: dict[str, Any], where: str) -> list[Block]:
        if ("weeks" in item) == ("days" in item):
            raise self.fail(where + "weeks", "give either weeks = [first, last] or days = [first, last]")
        key = "weeks" if "weeks" in item else "days"
        first, last = self.span(item[key], where + key, minimum=1 if key == "weeks" else 0)
        sessions = self.whole(item["sessions"], where + "sessions", minimum=1)
        min_gap = self.whole(item["min_gap"], where + "min_gap", minimum=1)
        ideal = self.ideal(item["ideal"], where + "ideal", sessions, min_gap)
        try:
            phase = Phase(item["phase"])
        except ValueError:
            raise self.fail(where + "phase", f"must be one of: {', '.join(Phase)}") from None
        if key == "weeks":
            spans = [((week - 1) * DAYS_PER_WEEK, DAYS_PER_WEEK) for week in range(first, last + 1)]
        else:
            spans = [(first, last - first + 1)]
        length = spans[0][1]
        if (sessions - 1) * min_gap > length - 1:
            raise self.fail(
                where + "min_gap",
                f"{sessions} sessions at least {min_gap} days apart cannot fit in {length} days",
            )
        if ideal[-1] >= length:
            raise self.fail(where + "ideal", f"day {ideal[-1]} lies outside the block's {length} days")
        return [Block(start, size, ideal, min_gap, phase) for start, size in spans]

    def ideal(self, raw: object, field: str, sessions: int, min_gap: int) -> tuple[int, ...]:
        if not isinstance(raw, list) or any(
            isinstance(d, bool) or not isinstance(d, int) or d < 0 for d in raw
        ):
            raise self.fail(field, "must be a list of day offsets (whole numbers >= 0)")
        if len(raw) != sessions:
            raise self.fail(field, f"lists {len(raw)} days for {sessions} sessions")
        for a, b in pairwise(raw):
            if b - a < min_gap:
                raise self.fail(field, f"days {a} and {b} are closer than min_gap ({min_gap})")
        return tuple(raw)

    def monitoring(self, raw: object) -> tuple[MonitoringPoint, ...]:
        if not isinstance(raw, list):
            raise self.fail("monitoring", "must be a list of [[monitoring]] tables")
        points = []
        for i, item in enumerate(raw):
            where = f"monitoring.{i}."
            if not isinstance(item, dict):
                raise self.fail(f"monitoring.{i}", "must be a table")
            self.keys(
                item,
                where,
                required={"point"},
                optional={"after", "at_minutes", "every_minutes", "for_minutes", "sources"},
            )
            points.append(self.point(item, where))
        return tuple(points)

    def point(self, item: dict[str, Any], where: str) -> MonitoringPoint:
        try:
            kind = VitalPointKind(item["point"])
        except ValueError:
            raise self.fail(where + "point", f"must be one of: {', '.join(VitalPointKind)}") from None
        allowed = {
            VitalPointKind.PRE_DOSE: set(),
            VitalPointKind.DURING_INFUSION: {"every_minutes"},
            VitalPointKind.POST_DOSE: {"after", "at_minutes", "every_minutes", "for_minutes"},
            VitalPointKind.PRE_DISCHARGE: {"at_minutes"},
        }[kind]
        timing = set(item) - {"point", "sources"}
        refused = sorted(timing - allowed)
        if refused:
            raise self.fail(where + refused[0], f"a {kind} reading does not take {refused[0]}")
        if kind is VitalPointKind.POST_DOSE and ("at_minutes" in item) == ("every_minutes" in item):
            raise self.fail(where + "at_minutes", "give at_minutes, or every_minutes with for_minutes")
        if ("every_minutes" in item and kind is VitalPointKind.POST_DOSE) != ("for_minutes" in item):
            raise self.fail(
                where + "for_minutes", "every_minutes after the dose needs for_minutes, and only it"
            )
        if kind is not VitalPointKind.PRE_DOSE and not timing - {"after"}:
            raise self.fail(where + "point", f"a {kind} reading needs its minutes")
        try:
            after = Since(item.get("after", Since.DOSE))
        except ValueError:
            raise self.fail(where + "after", f"must be one of: {', '.join(Since)}") from None
        amounts = {
            name: self.amount(item[name], where + name, minimum=1, may_be_unset=True)
            for name in ("at_minutes", "every_minutes", "for_minutes")
            if name in item
        }
        fixed = any(a.policy_field is None for a in amounts.values())
        sources = self.sources(item.get("sources", []), where + "sources", required=fixed)
        return MonitoringPoint(kind, after, sources=sources, **amounts)

    # --- Values ---

    def keys(
        self, data: dict[str, Any], where: str, *, required: set[str], optional: Iterable[str] = ()
    ) -> None:
        missing = sorted(required - set(data))
        if missing:
            raise self.fail(where + missing[0], "is required")
        unknown = sorted(set(data) - required - set(optional))
        if unknown:
            raise self.fail(where + unknown[0], "is not a field of a protocol file")

    def table(self, data: dict[str, Any], name: str) -> dict[str, Any]:
        value = data[name]
        if not isinstance(value, dict):
            raise self.fail(name, "must be a table")
        return value

    def text(self, data: dict[str, Any], name: str, where: str = "") -> str:
        value = data[name]
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where + name, "must be non-empty text")
        return value

    def boolean(self, value: object, field: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(field, "must be true or false")
        return value

    def whole(self, value: object, field: str, *, minimum: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(field, f"must be a whole number >= {minimum}")
        return value

    def span(self, value: object, field: str, *, minimum: int) -> tuple[int, int]:
        if (
            not isinstance(value, list)
            or len(value) != 2
            or any(isinstance(v, bool) or not isinstance(v, int) or v < minimum for v in value)
            or value[0] > value[1]
        ):
            raise self.fail(field, f"must be [first, last], whole numbers >= {minimum}, first <= last")
        return value[0], value[1]

    def policy_field(self, value: dict[str, Any], field: str, wanted: set[str]) -> str:
        if set(value) != {"policy"} or not isinstance(value["policy"], str):
            raise self.fail(field, 'a clinic-policy value is written { policy = "field_name" }')
        name = value["policy"]
        if name not in _POLICY_FIELDS:
            raise self.fail(field, f"{name!r} is not a clinic policy field")
        if _POLICY_FIELDS[name] not in wanted:
            raise self.fail(
                field,
                f"clinic policy field {name!r} is {_POLICY_FIELDS[name]}, not {' or '.join(sorted(wanted))}",
            )
        return name

    def amount(self, value: object, field: str, *, minimum: int, may_be_unset: bool = False) -> Amount:
        if isinstance(value, dict):
            wanted = {"int", "int | None"} if may_be_unset else {"int"}
            return Amount(policy_field=self.policy_field(value, field, wanted))
        return Amount(fixed=self.whole(value, field, minimum=minimum))

    def flag(self, value: object, field: str) -> Flag:
        if isinstance(value, dict):
            return Flag(policy_field=self.policy_field(value, field, {"bool"}))
        return Flag(fixed=self.boolean(value, field))

    def sources(self, value: object, field: str, *, required: bool) -> tuple[str, ...]:
        if not isinstance(value, list) or any(not isinstance(tag, str) for tag in value):
            raise self.fail(field, "must be a list of source tags")
        if required and not value:
            raise self.fail(field, "a fixed number needs the sources it rests on")
        unknown = unknown_tags(value)
        if unknown:
            raise self.fail(
                field, f"unknown source tags {sorted(unknown)} (see ketaclinic/clinical/sources.py)"
            )
        return tuple(value)


def by_id(protocols: Mapping[str, ProtocolSpec], protocol_id: str) -> ProtocolSpec:
    """The protocol with this id; an unknown id raises ValueError listing the known ones."""
    try:
        return protocols[protocol_id]
    except (KeyError, TypeError):
        known = ", ".join(protocols)
        raise ValueError(f"unknown protocol {protocol_id!r}; expected one of: {known}") from None
