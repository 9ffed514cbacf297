"""Turning the pages' form posts into the input models the API takes: numbers from text, ticks as booleans,
local times ("HH:MM" on the session's day, at its location) as aware datetimes. The input models then check
everything, naming the field, exactly as for the API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from ketaclinic.clinicpolicy.clock import location_zone
from ketaclinic.errors import InvalidInput, field_errors
from ketaclinic.treatment import inputs
from ketaclinic.treatment.models import TreatmentSession

Form = Mapping[str, Any]


def _text(form: Form, name: str) -> str:
    return str(form.get(name, ""))


def _int(form: Form, name: str) -> int | str | None:
    raw = _text(form, name).strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        return raw  # refused by the model, naming the field


def _tick(form: Form, name: str) -> bool:
    return form.get(name) in ("on", "yes", "true", "1")


def _yes_no(form: Form, name: str) -> bool | None:
    raw = _text(form, name)
    return {"yes": True, "no": False}.get(raw)


def _time(session: TreatmentSession, form: Form, name: str) -> dt.datetime | str | None:
    """ "HH:MM" on the session's day at its location; blank is now."""
    raw = _text(form, name).strip()
    if not raw:
        return None
    try:
        clock = dt.time.fromisoformat(raw)
    except ValueError:
        raise InvalidInput({name: "enter a time as HH:MM"}) from None
    return dt.datetime.combine(session.date, clock, tzinfo=location_zone(session.location))


def _parse(model: type[BaseModel], values: dict[str, Any]) -> Any:
    try:
        return model.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        raise InvalidInput(field_errors(exc)) from exc


def check_in(session: TreatmentSession, form: Form) -> inputs.CheckInIn:
    parsed: inputs.CheckInIn = _parse(
        inputs.CheckInIn,
        {"checked_in_at": _time(session, form, "checked_in_at"), "chair_id": _int(form, "chair_id")},
    )
    return parsed


def assign(session: TreatmentSession, form: Form) -> inputs.AssignIn:
    parsed: inputs.AssignIn = _parse(
        inputs.AssignIn,
        {"chair_id": _int(form, "chair_id"), "monitored_by_me": _tick(form, "monitored_by_me")},
    )
    return parsed


def predose(session: TreatmentSession, form: Form) -> inputs.PreDoseCheckIn:
    parsed: inputs.PreDoseCheckIn = _parse(
        inputs.PreDoseCheckIn,
        {
            "identity_confirmed": _tick(form, "identity_confirmed"),
            "fasting_confirmed": _yes_no(form, "fasting_confirmed"),
            "ride_home_arranged": _tick(form, "ride_home_arranged"),
            "medication_changes": _tick(form, "medication_changes"),
            "medication_note": _text(form, "medication_note"),
            "pregnancy_status": _text(form, "pregnancy_status") or None,
        },
    )
    return parsed


def vitals(session: TreatmentSession, form: Form) -> inputs.VitalsIn:
    when = _time(session, form, "taken_at")
    parsed: inputs.VitalsIn = _parse(
        inputs.VitalsIn,
        {
            "taken_at": when if when is not None else _now(),
            **{
                n: _int(form, n)
                for n in ("systolic_mmhg", "diastolic_mmhg", "heart_rate_bpm", "spo2_percent")
            },
        },
    )
    return parsed


def _now() -> dt.datetime:
    from django.utils import timezone

    return timezone.now()


def alert_answer(session: TreatmentSession, form: Form) -> inputs.AlertAnswerIn:
    parsed: inputs.AlertAnswerIn = _parse(
        inputs.AlertAnswerIn, {"answer": _text(form, "answer"), "note": _text(form, "note")}
    )
    return parsed


def dose(session: TreatmentSession, form: Form) -> inputs.AdministerIn:
    started = _time(session, form, "started_at")
    parsed: inputs.AdministerIn = _parse(
        inputs.AdministerIn,
        {
            "amount_mg": _text(form, "amount_mg").strip() or None,
            "lot_number": _text(form, "lot_number"),
            "started_at": started if started is not None else _now(),
            "ended_at": _time(session, form, "ended_at"),
        },
    )
    return parsed


def device(session: TreatmentSession, form: Form) -> inputs.DeviceUseIn:
    parsed: inputs.DeviceUseIn = _parse(inputs.DeviceUseIn, {"used_at": _time(session, form, "used_at")})
    return parsed


def dose_end(session: TreatmentSession, form: Form) -> inputs.DoseEndIn:
    parsed: inputs.DoseEndIn = _parse(inputs.DoseEndIn, {"ended_at": _time(session, form, "ended_at")})
    return parsed


def observation(session: TreatmentSession, form: Form) -> inputs.ObservationIn:
    instrument = _text(form, "instrument")
    if instrument == "moaas":
        answers: Any = [_int(form, "moaas_level")]
    else:
        answers = [_int(form, f"cadss_{n}") if _text(form, f"cadss_{n}") else 0 for n in range(1, 24)]
    when = _time(session, form, "taken_at")
    parsed: inputs.ObservationIn = _parse(
        inputs.ObservationIn,
        {"instrument": instrument, "answers": answers, "taken_at": when if when is not None else _now()},
    )
    return parsed


def adverse_event(session: TreatmentSession, form: Form) -> inputs.AdverseEventIn:
    when = _time(session, form, "onset_at")
    parsed: inputs.AdverseEventIn = _parse(
        inputs.AdverseEventIn,
        {
            "code": _text(form, "code"),
            "severity": _text(form, "severity"),
            "onset_at": when if when is not None else _now(),
            "action_taken": _text(form, "action_taken"),
            "outcome": _text(form, "outcome"),
            "description": _text(form, "description"),
        },
    )
    return parsed


def discharge(session: TreatmentSession, form: Form) -> inputs.DischargeIn:
    parsed: inputs.DischargeIn = _parse(
        inputs.DischargeIn,
        {
            "discharged_at": _time(session, form, "discharged_at"),
            "ready_to_leave_minutes": _int(form, "ready_to_leave_minutes"),
            "escort_name": _text(form, "escort_name"),
            "dissociation_resolved": _tick(form, "dissociation_resolved"),
            "respiratory_depression_resolved": _tick(form, "respiratory_depression_resolved"),
        },
    )
    return parsed


def amendment(session: TreatmentSession, form: Form) -> inputs.AmendmentIn:
    parsed: inputs.AmendmentIn = _parse(
        inputs.AmendmentIn, {"reason": _text(form, "reason"), "note": _text(form, "note")}
    )
    return parsed


def plan(form: Form) -> inputs.PlanIn:
    modality = _text(form, "modality")
    dose_value = _text(form, "dose").strip() or None
    values: dict[str, Any] = {
        "modality": modality,
        "protocol": _text(form, "protocol"),
        "start_date": _text(form, "start_date") or None,
        "clinic_days": [int(d) for d in form.getlist("clinic_days") if d.isdigit()]  # type: ignore[attr-defined]
        or None,
        "maintenance_sessions": _int(form, "maintenance_sessions") or 0,
        "infusion_minutes": _int(form, "infusion_minutes"),
    }
    values["dose_mg" if modality == "esketamine_nasal" else "dose_mg_per_kg"] = dose_value
    parsed: inputs.PlanIn = _parse(inputs.PlanIn, values)
    return parsed


def reason(form: Form) -> inputs.ReasonIn:
    parsed: inputs.ReasonIn = _parse(inputs.ReasonIn, {"reason": _text(form, "reason")})
    return parsed


def dose_change(modality: str, form: Form) -> inputs.DoseChangeIn:
    field = "dose_mg" if modality == "esketamine_nasal" else "dose_mg_per_kg"
    parsed: inputs.DoseChangeIn = _parse(
        inputs.DoseChangeIn, {field: _text(form, "dose").strip() or None, "reason": _text(form, "reason")}
    )
    return parsed


def frequency_change(form: Form) -> inputs.FrequencyChangeIn:
    parsed: inputs.FrequencyChangeIn = _parse(
        inputs.FrequencyChangeIn,
        {
            "clinic_days": [int(d) for d in form.getlist("clinic_days") if d.isdigit()] or None,  # type: ignore[attr-defined]
            "maintenance_sessions": _int(form, "maintenance_sessions"),
            "reason": _text(form, "reason"),
        },
    )
    return parsed
