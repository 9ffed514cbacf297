"""HTML forms of the home pages read into the same input models as the API.

A whole number typed into a form arrives as text: it is turned into a number when it is one, and passed on
as typed otherwise, so that the input model names the field in its message.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import QueryDict

from ketaclinic.clinicpolicy.clock import location_zone
from ketaclinic.homecare.inputs import HomeCheckInIn, HomeProgramIn, PreDoseIn, TakenIn
from ketaclinic.homecare.models import HomeDose


def _int(raw: str) -> int | str:
    text = raw.strip()
    return int(text) if text.isdigit() and len(text) < 10 else text


def program(post: QueryDict) -> HomeProgramIn:
    return HomeProgramIn.model_validate(
        {
            "drug": post.get("drug", "ketamine"),
            "route": post.get("route", ""),
            "dose_mg": post.get("dose_mg", "").strip() or None,
            "min_days_between_doses": _int(post.get("min_days_between_doses", "")),
            "start_date": post.get("start_date", ""),
            "monitor_name": post.get("monitor_name", ""),
        }
    )


def pre_dose(post: QueryDict) -> PreDoseIn:
    return PreDoseIn.model_validate(
        {
            "systolic_mmhg": _int(post.get("systolic_mmhg", "")),
            "diastolic_mmhg": _int(post.get("diastolic_mmhg", "")),
            "heart_rate_bpm": _int(post.get("heart_rate_bpm", "")),
            "monitor_name": post.get("monitor_name", ""),
            "monitor_relationship": post.get("monitor_relationship", ""),
            "confirmed_safe": post.get("confirmed_safe") == "yes",
            "submit_key": post.get("submit_key", ""),
        }
    )


def _clock(raw: str) -> dt.time | None:
    try:
        return dt.time.fromisoformat(raw.strip())
    except ValueError:
        return None


def taken(post: QueryDict, dose: HomeDose) -> TakenIn | dict[str, str]:
    """The time typed (HH:MM on the dose's day at the location) and the amount; or the errors by field."""
    at = _clock(post.get("taken_at", ""))
    if at is None:
        return {"taken_at": "Enter the time you took your dose, as HH:MM"}
    moment: Any = dt.datetime.combine(dose.day, at, tzinfo=location_zone(dose.program.location))
    return TakenIn.model_validate(
        {"taken_at": moment.isoformat(), "taken_mg": post.get("taken_mg", "").strip() or None}
    )


def checkin(post: QueryDict) -> HomeCheckInIn:
    return HomeCheckInIn.model_validate(
        {
            "side_effects": post.getlist("side_effects"),
            "side_effects_other": post.get("side_effects_other", ""),
            "side_effect_severity": post.get("side_effect_severity", ""),
            "dissociation": post.get("dissociation", ""),
            "systolic_mmhg": _int(post.get("systolic_mmhg", "")),
            "diastolic_mmhg": _int(post.get("diastolic_mmhg", "")),
            "note": post.get("note", ""),
        }
    )
