"""Seeded synthetic weeks for the optimiser's benchmark and tests: no database, no downloads.

The shape follows the scheduling research (shared/product/scheduling.md, section 3.3): a location open
Monday to Friday 08:00-18:00, 12 dosing chairs and 2 therapy rooms, nurses 2 on duty 08-10 and 16-18 and 3
from 10-16 at a monitoring ratio of 4, a prescriber present except Wednesday afternoon and Friday before 10.
Patients: esketamine induction (twice weekly, 2 days apart), IV induction (three a week), esketamine
maintenance (weekly), a quarter of them with a 60-minute integration visit; each prefers mornings,
afternoons or any time, and some cannot come on one weekday. Visit lengths are the research's (esketamine
120 min, IV 105, integration 60); a clinic sets its own in policy.
"""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from dataclasses import dataclass

from ketaclinic.clinical.scheduling import VisitKind
from ketaclinic.scheduling.optimiser import Want
from ketaclinic.scheduling.rules import ChairInfo, Site

LOCATION = 1
ZONE = zoneinfo.ZoneInfo("America/New_York")
WEEK_START = dt.date(2027, 3, 1)  # a Monday with no change of clock in the week
MORNING = ((dt.time(8), dt.time(12)),)
AFTERNOON = ((dt.time(12), dt.time(18)),)

ESKETAMINE_MINUTES = 120
IV_MINUTES = 105
INTEGRATION_MINUTES = 60


@dataclass(frozen=True, slots=True)
class SyntheticWeek:
    site: Site
    chairs: dict[int, ChairInfo]
    wants: list[Want]
    enrolled: dict[str, dt.date]
    week_start: dt.date


def _at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    local = dt.datetime.combine(WEEK_START + dt.timedelta(days=day), dt.time(hour, minute), tzinfo=ZONE)
    return local.astimezone(dt.UTC)


def site(*, chairs: int = 12, nurse_ratio: int | None = 4, closed: frozenset[dt.date] = frozenset()) -> Site:
    nurses = []
    for day in range(5):
        nurses += [(_at(day, 8), _at(day, 18)), (_at(day, 8), _at(day, 18)), (_at(day, 10), _at(day, 16))]
    prescriber = []
    for day in range(5):
        if day == 2:
            prescriber.append((_at(day, 7), _at(day, 13)))
        elif day == 4:
            prescriber.append((_at(day, 10), _at(day, 19)))
        else:
            prescriber.append((_at(day, 7), _at(day, 19)))
    del chairs
    return Site(
        location=LOCATION,
        zone=ZONE,
        opening={day: ((dt.time(8), dt.time(18)),) for day in range(5)},
        closures=closed,
        prescriber_windows=tuple(prescriber),
        nurse_shifts=tuple(nurses),
        nurse_ratio=nurse_ratio,
    )


def chairs(count: int = 12, rooms: int = 2) -> dict[int, ChairInfo]:
    found = {pk: ChairInfo(LOCATION, "chair") for pk in range(1, count + 1)}
    found.update({pk: ChairInfo(LOCATION, "therapy_room") for pk in range(count + 1, count + rooms + 1)})
    return found


def _preference(rng: random.Random) -> tuple[tuple[dt.time, dt.time], ...]:
    return rng.choice([MORNING, AFTERNOON, ()])


def _course(
    patient: str, kind: VisitKind, protocol: str, numbers: range, induction: bool, extra: dict[str, object]
) -> list[Want]:
    minutes = ESKETAMINE_MINUTES if kind == VisitKind.ESKETAMINE_NASAL else IV_MINUTES
    return [
        Want(
            id=f"{patient}-s{n}",
            patient=patient,
            kind=kind,
            minutes=minutes,
            induction=induction,
            plan=f"{patient}-plan",
            protocol=protocol,
            session_number=n,
            **extra,  # type: ignore[arg-type]
        )
        for n in numbers
    ]


def _patient(rng: random.Random, index: int) -> list[Want]:
    patient = f"p{index:04d}"
    extra: dict[str, object] = {"preferred": _preference(rng)}
    if rng.random() < 0.3:
        day = rng.randrange(5)
        extra["unavailable"] = ((_at(day, 0), _at(day + 1, 0)),)
    roll = rng.random()
    if roll < 0.35:
        first = rng.choice([1, 3, 5, 7])
        wants = _course(
            patient, VisitKind.ESKETAMINE_NASAL, "esketamine_trd", range(first, first + 2), True, extra
        )
    elif roll < 0.55:
        first = rng.choice([1, 4])
        wants = _course(
            patient, VisitKind.IV_KETAMINE, "iv_thrice_weekly_12d", range(first, first + 3), True, extra
        )
    else:
        number = rng.choice([9, 10, 11, 12])
        wants = _course(
            patient, VisitKind.ESKETAMINE_NASAL, "esketamine_trd", range(number, number + 1), False, extra
        )
    if rng.random() < 0.25:
        wants.append(
            Want(
                id=f"{patient}-integration",
                patient=patient,
                kind=VisitKind.INTEGRATION,
                minutes=INTEGRATION_MINUTES,
                preferred=extra["preferred"],  # type: ignore[arg-type]
            )
        )
    return wants


def week(sessions: int, seed: int, *, chair_count: int = 12) -> SyntheticWeek:
    """About `sessions` wanted visits, in whole patients (it stops at the first patient reaching it)."""
    rng = random.Random(seed)  # noqa: S311 - seeded synthetic data, not security
    wants: list[Want] = []
    index = 0
    while len(wants) < sessions:
        wants += _patient(rng, index)
        index += 1
    enrolled = {w.patient: WEEK_START - dt.timedelta(days=30) for w in wants}
    return SyntheticWeek(site(), chairs(chair_count), wants, enrolled, WEEK_START)
