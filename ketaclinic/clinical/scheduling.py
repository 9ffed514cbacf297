"""Scheduling facts the medicine sets: what each kind of visit is, how long it holds a chair, who must be on
site for it, and how far apart a course's visits must fall.

Pure and typed: times are aware datetimes passed in, policy is passed in. The clinical hard rules of booking
are here, each refusing under a rule id of the catalogue:

- REMS-SETTING: an esketamine visit needs a prescriber on site for the whole visit (dosing and monitoring).
- REMS-ENROL-BEFORE-FIRST: an esketamine visit needs the patient's REMS enrolment on or before its day.
- PROTO-SESSION-SPACING: the visits of one plan keep the day gaps of its protocol (never two on one day;
  twice-weekly visits at least 2 days apart), read from the protocol files.

The house rules (chairs, hours, closures, nurse cover, double-booking) are in ketaclinic/scheduling/rules.py,
which runs these too as one independent checker.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from ketaclinic.clinical.common import Area, Level, Modality, Rule
from ketaclinic.clinical.policy import ClinicPolicy
from ketaclinic.clinical.protocols import PROTOCOLS, RULE_SPACING
from ketaclinic.clinical.rems import RULE_ENROL, RULE_SETTING


class VisitKind(StrEnum):
    """The kinds of appointment; the three dosing kinds are the plan modalities' values."""

    ESKETAMINE_NASAL = Modality.ESKETAMINE_NASAL.value
    IV_KETAMINE = Modality.IV_KETAMINE.value
    IM_KETAMINE = Modality.IM_KETAMINE.value
    CONSULTATION = "consultation"
    PREPARATION = "preparation"
    INTEGRATION = "integration"


KIND_LABELS: dict[VisitKind, str] = {
    VisitKind.ESKETAMINE_NASAL: "Esketamine nasal spray",
    VisitKind.IV_KETAMINE: "IV ketamine infusion",
    VisitKind.IM_KETAMINE: "IM ketamine injection",
    VisitKind.CONSULTATION: "Consultation",
    VisitKind.PREPARATION: "Preparation",
    VisitKind.INTEGRATION: "Integration",
}

DOSING_KINDS = frozenset({VisitKind.ESKETAMINE_NASAL, VisitKind.IV_KETAMINE, VisitKind.IM_KETAMINE})
"""Visits where the drug is given: the patient is in monitoring for the whole visit (a nurse's patient)."""

PRESCRIBER_ON_SITE_KINDS = frozenset({VisitKind.ESKETAMINE_NASAL})
"""The REMS asks for a prescriber on site during administration and monitoring [S13]."""

_DURATION_FIELDS: dict[VisitKind, str] = {
    VisitKind.ESKETAMINE_NASAL: "esketamine_visit_minutes",
    VisitKind.IV_KETAMINE: "iv_visit_minutes",
    VisitKind.IM_KETAMINE: "im_visit_minutes",
    VisitKind.CONSULTATION: "consultation_visit_minutes",
    VisitKind.PREPARATION: "preparation_visit_minutes",
    VisitKind.INTEGRATION: "integration_visit_minutes",
}


RULE_MONITORING_COVER = Rule(
    "SCHED-MONITORING-COVER",
    Area.REMS,
    Level.SCHEDULE,
    frozenset({Modality.ESKETAMINE_NASAL, Modality.IV_KETAMINE, Modality.IM_KETAMINE}),
    "A visit holds its chair or room for the clinic's visit length of its kind, monitoring included (an "
    "esketamine visit: at least 2 hours after the dose). A dosing visit is booked only while patients in "
    "monitoring stay within the nurse monitoring ratio of the nurses on duty (no ratio set: none), and an "
    "esketamine visit only with a prescriber present for all of it (REMS-SETTING).",
    ("S13",),
    (
        "nurse_monitoring_ratio",
        "esketamine_visit_minutes",
        "iv_visit_minutes",
        "im_visit_minutes",
        "consultation_visit_minutes",
        "preparation_visit_minutes",
        "integration_visit_minutes",
    ),
)

RULE_ATTENDANCE = Rule(
    "SCHED-ATTENDANCE",
    Area.REMS,
    Level.SCHEDULE,
    frozenset(Modality),
    "Clinic policy: a cancellation less than the clinic's notice before a visit is recorded as late; a freed "
    "slot is held for the waitlist patient it is offered to for a set number of minutes before it moves to "
    "the next; each visit's reminder goes out a set number of hours before it and asks the patient to "
    "confirm; a visit still unconfirmed a set number of hours before it starts is flagged to front desk. "
    "Operational values with no basis in the literature; the source is that of the monitored visits they "
    "keep full.",
    ("S13",),
    ("late_cancel_hours", "waitlist_hold_minutes", "visit_reminder_hours", "unconfirmed_flag_hours"),
)

RULES: tuple[Rule, ...] = (RULE_MONITORING_COVER, RULE_ATTENDANCE)


def is_late_cancellation(starts_at: dt.datetime, cancelled_at: dt.datetime, policy: ClinicPolicy) -> bool:
    """SCHED-ATTENDANCE: cancelled with less than the clinic's notice before the visit starts."""
    return starts_at - cancelled_at < dt.timedelta(hours=policy.late_cancel_hours)


def duration_minutes(kind: VisitKind, policy: ClinicPolicy) -> int:
    """How long a visit of `kind` holds its chair or room, check-in and turnover included (clinic policy)."""
    minutes = getattr(policy, _DURATION_FIELDS[kind])
    assert isinstance(minutes, int)
    return minutes


def duration_policy_field(kind: VisitKind) -> str:
    return _DURATION_FIELDS[kind]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a visit may not be booked as it stands: the rule's id and a message for staff."""

    rule_id: str
    message: str
    visit_id: str = ""


Window = tuple[dt.datetime, dt.datetime]


def covered(start: dt.datetime, end: dt.datetime, windows: Iterable[Window]) -> bool:
    """Whether [start, end) lies inside the union of `windows` (windows that touch join)."""
    at = start
    for begin, finish in sorted(windows):
        if begin > at:
            break
        if finish > at:
            at = finish
        if at >= end:
            return True
    return at >= end


def prescriber_present(
    kind: VisitKind, start: dt.datetime, end: dt.datetime, windows: Iterable[Window]
) -> Refusal | None:
    """REMS-SETTING: an esketamine visit needs a prescriber on site from its start to its end [S13]."""
    if kind not in PRESCRIBER_ON_SITE_KINDS or covered(start, end, windows):
        return None
    return Refusal(RULE_SETTING.id, "no prescriber is on site for the whole esketamine visit")


def rems_enrolled(kind: VisitKind, day: dt.date, enrolled_on: dt.date | None) -> Refusal | None:
    """REMS-ENROL-BEFORE-FIRST: the patient is enrolled in the SPRAVATO REMS on or before the visit's day."""
    if kind not in PRESCRIBER_ON_SITE_KINDS:
        return None
    if enrolled_on is not None and enrolled_on <= day:
        return None
    return Refusal(RULE_ENROL.id, "the patient is not enrolled in the SPRAVATO REMS by the visit's day")


def min_gaps(protocol_id: str) -> tuple[int, ...]:
    """The fewest days before each session of the protocol's blocks (index 0 is the first session, gap 0);
    sessions after the blocks (maintenance by interval) keep at least one day apart."""
    spec = PROTOCOLS[protocol_id]
    gaps: list[int] = []
    previous = None
    for block in spec.blocks:
        for k in range(block.count):
            if not gaps:
                gaps.append(0)
            elif k == 0 and previous is not None:
                gaps.append(max(block.min_gap, previous.min_gap))
            else:
                gaps.append(block.min_gap)
        previous = block
    return tuple(gaps)


def min_gap_before(protocol_id: str, number: int) -> int:
    """The fewest days between session `number` (1-based) of a course and the session before it."""
    gaps = min_gaps(protocol_id)
    if number <= 1:
        return 0
    return gaps[number - 1] if number <= len(gaps) else 1


def day_gaps(protocol_id: str, course: Sequence[tuple[int, dt.date]]) -> list[tuple[int, Refusal]]:
    """PROTO-SESSION-SPACING over the booked visits of one course: (session number, local day) pairs.

    Consecutive booked visits (by session number) must be at least the protocol's gap apart and in order;
    each refusal names the later session's number.
    """
    found: list[tuple[int, Refusal]] = []
    ordered = sorted(course)
    for (_, day_a), (number_b, day_b) in itertools.pairwise(ordered):
        need = max(1, min_gap_before(protocol_id, number_b))
        apart = (day_b - day_a).days
        if apart < need:
            message = (
                f"session {number_b} is {apart} day(s) after the session before it; "
                f"the protocol needs at least {need}"
            )
            found.append((number_b, Refusal(RULE_SPACING.id, message)))
    return found
