"""Every write to a patient's record. Each do_* runs in one transaction and leaves one audit row."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from ketaclinic.accounts.access import can
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.models import Action
from ketaclinic.errors import InvalidInput, VersionConflict
from ketaclinic.patients import inputs, sections
from ketaclinic.patients.models import BodyMeasurement, EntryStatus, Patient, PatientEntry
from ketaclinic.patients.sections import SECTIONS

HistoryInput = (
    inputs.ConditionIn | inputs.MedicationIn | inputs.AllergyIn | inputs.SubstanceUseIn | inputs.TrialIn
)


def _stamp(actor: Any) -> dict[str, Any]:
    now = timezone.now()
    return {"created_at": now, "created_by": actor, "updated_at": now, "updated_by": actor}


def _search_name(family: str, given: str) -> str:
    return f"{family} {given}".casefold()


def _location_for_registration(actor: Any, slug: str) -> ClinicLocation:
    location = ClinicLocation.objects.filter(network_id=actor.network_id, slug=slug).first()
    if location is None or not can(actor, Perm.PATIENT_WRITE, location.pk):
        raise InvalidInput({"location": f"'{slug}' is not a location where you can register patients"})
    return location


def _mrn_taken(network_id: int, mrn: str) -> InvalidInput:
    return InvalidInput({"mrn": f"MRN {mrn} is already in use in this clinic network"})


def _add_entry(patient: Patient, data: HistoryInput, actor: Any) -> PatientEntry:
    return sections.for_input(data).add(patient, data, _stamp(actor))


def _add_measurement(patient: Patient, data: inputs.MeasurementIn, actor: Any) -> BodyMeasurement:
    if data.is_empty:
        raise InvalidInput({"weight_kg": "give a weight, a height, a blood pressure or a heart rate"})
    values = {f: getattr(data, f) for f in inputs.MEASURED}
    return BodyMeasurement.objects.create(
        patient=patient, measured_on=data.measured_on, **values, **_stamp(actor)
    )


@transaction.atomic
def do_register_patient(data: inputs.PatientCreate, *, actor: Any, origin: Origin = SYSTEM) -> Patient:
    """Register a patient with everything intake gathered, all or nothing."""
    location = _location_for_registration(actor, data.location)
    if Patient.objects.filter(network_id=location.network_id, mrn=data.mrn).exists():
        raise _mrn_taken(location.network_id, data.mrn)
    fields = data.model_dump(exclude={"location", "measurement", *SECTIONS}, exclude_none=True)
    patient = Patient(network_id=location.network_id, location=location, **fields, **_stamp(actor))
    patient.search_name = _search_name(patient.family_name, patient.given_name)
    if patient.pregnancy_status != "not_applicable":
        patient.pregnancy_recorded_on = inputs.today()
    try:
        with transaction.atomic():
            patient.save(force_insert=True)
    except IntegrityError as exc:  # a concurrent registration took the MRN first
        raise _mrn_taken(location.network_id, data.mrn) from exc
    if data.measurement is not None and not data.measurement.is_empty:
        _add_measurement(patient, data.measurement, actor)
    for key in SECTIONS:
        for index, item in enumerate(getattr(data, key)):
            try:
                _add_entry(patient, item, actor)
            except InvalidInput as exc:
                raise InvalidInput({f"{key}.{index}.{k}": v for k, v in exc.errors.items()}) from exc
    changed = sorted(set(fields) | {key for key in SECTIONS if getattr(data, key)} | {"mrn", "location"})
    record(
        Action.PATIENT_CREATE,
        actor=actor,
        origin=origin,
        obj=patient,
        patient=patient,
        changed_fields=changed,
    )
    return patient


@transaction.atomic
def do_update_patient(
    patient: Patient,
    data: inputs.PatientUpdate,
    *,
    actor: Any,
    origin: Origin = SYSTEM,
    expected_version: int | None = None,
) -> Patient:
    """Change the fields sent. With expected_version, refuse if someone else changed the record first."""
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    if expected_version is not None and patient.version != expected_version:
        raise VersionConflict(patient.version)
    sent = data.model_dump(exclude_unset=True)
    if sent.get("sex") == "male" and sent.get("pregnancy_status", patient.pregnancy_status) == "pregnant":
        raise InvalidInput({"pregnancy_status": "cannot be 'pregnant' when sex is male"})
    changed = sorted(k for k, v in sent.items() if v is not None and getattr(patient, k) != v)
    if not changed:
        return patient
    for name in changed:
        setattr(patient, name, sent[name])
    if "pregnancy_status" in changed or "breastfeeding" in changed:
        patient.pregnancy_recorded_on = inputs.today()
    patient.search_name = _search_name(patient.family_name, patient.given_name)
    patient.version += 1
    patient.updated_at, patient.updated_by = timezone.now(), actor
    patient.save()
    record(
        Action.PATIENT_UPDATE,
        actor=actor,
        origin=origin,
        obj=patient,
        patient=patient,
        changed_fields=changed,
    )
    return patient


@transaction.atomic
def do_add_history_entry(
    patient: Patient, data: HistoryInput, *, actor: Any, origin: Origin = SYSTEM
) -> PatientEntry:
    """Add an entry to one of the history sections (patients/sections.py), chosen by the input's type."""
    entry = _add_entry(patient, data, actor)
    record(
        Action.RECORD_CREATE,
        actor=actor,
        origin=origin,
        obj=entry,
        patient=patient,
        changed_fields=sorted(data.model_fields_set),
    )
    return entry


@transaction.atomic
def do_record_measurement(
    patient: Patient, data: inputs.MeasurementIn, *, actor: Any, origin: Origin = SYSTEM
) -> BodyMeasurement:
    measurement = _add_measurement(patient, data, actor)
    changed = [f for f in inputs.MEASURED if getattr(data, f) is not None]
    record(
        Action.RECORD_CREATE,
        actor=actor,
        origin=origin,
        obj=measurement,
        patient=patient,
        changed_fields=changed,
    )
    return measurement


@transaction.atomic
def do_change_entry_status(
    entry: Any, change: inputs.StatusChange, *, actor: Any, origin: Origin = SYSTEM
) -> Any:
    """Resolve, stop or mark an entry entered-in-error. The row stays; the audit row says who and when."""
    if entry.status == EntryStatus.ENTERED_IN_ERROR:
        raise InvalidInput({"status": "an entry marked entered-in-error cannot be changed again"})
    changed = ["status", "status_reason"]
    entry.status, entry.status_reason = change.status, change.reason
    on_resolve = sections.BY_MODEL[type(entry)].on_resolve
    if change.status == EntryStatus.RESOLVED and on_resolve is not None:
        changed += on_resolve(entry)
    entry.updated_at, entry.updated_by = timezone.now(), actor
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError as exc:  # re-activating a condition that is active again already
        raise InvalidInput({"status": "this condition is already recorded as active"}) from exc
    record(
        Action.RECORD_UPDATE,
        actor=actor,
        origin=origin,
        obj=entry,
        patient=entry.patient,
        changed_fields=changed,
    )
    return entry
