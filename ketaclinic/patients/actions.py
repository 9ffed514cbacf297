"""Every write to a patient's record. Each do_* runs in one transaction and leaves one audit row."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from ketaclinic.accounts.access import can, location_ids
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.models import Action
from ketaclinic.errors import InvalidInput, PossibleDuplicate, VersionConflict
from ketaclinic.patients import inputs, listfacts, search, sections
from ketaclinic.patients.models import BodyMeasurement, EntryStatus, MrnSequence, Patient, PatientEntry
from ketaclinic.patients.sections import SECTIONS

HistoryInput = (
    inputs.ConditionIn | inputs.MedicationIn | inputs.AllergyIn | inputs.SubstanceUseIn | inputs.TrialIn
)
# A change to one of these rewrites the patient's search tokens (patients/search.py).
SEARCHED_FIELDS = frozenset({"given_name", "family_name", "date_of_birth", "external_mrn"})


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


MRN_PREFIX = "KC-"


def next_mrn(network_id: int) -> str:
    """The network's next MRN ("KC-000123"), allocated inside the caller's transaction.

    The UPDATE locks the sequence row until the transaction ends (PostgreSQL; SQLite's write transactions
    are serialised anyway), so two registrations never get the same number, and a registration that is
    rolled back gives its number back.
    """
    sequence = MrnSequence.objects.filter(network_id=network_id)
    if not sequence.update(last_value=F("last_value") + 1):
        MrnSequence.objects.bulk_create([MrnSequence(network_id=network_id)], ignore_conflicts=True)
        sequence.update(last_value=F("last_value") + 1)
    return f"{MRN_PREFIX}{sequence.values_list('last_value', flat=True).get():06d}"


def external_mrn_key(value: str | None) -> str:
    """The form an external MRN is compared in: trimmed and case-folded; empty when there is none."""
    return (value or "").strip().casefold()


def _external_mrn_taken() -> InvalidInput:
    return InvalidInput({"external_mrn": "this external MRN is already used by a patient at this location"})


def _external_mrn_free(location_id: int, key: str, patient_id: Any = None) -> None:
    if (
        key
        and Patient.objects.filter(location_id=location_id, external_mrn_key=key)
        .exclude(pk=patient_id)
        .exists()
    ):
        raise _external_mrn_taken()


def possible_duplicates(actor: Any, given_name: str, family_name: str, date_of_birth: Any) -> list[Any]:
    """Ids of patients the actor can see with the same name (case and accents ignored) and date of birth."""
    wanted = (search.fold(given_name), search.fold(family_name))
    candidates = Patient.objects.filter(
        location_id__in=location_ids(actor, Perm.PATIENT_READ),
        date_of_birth=date_of_birth,
        entered_in_error_at__isnull=True,
    ).values_list("pk", "given_name", "family_name")
    return [pk for pk, given, family in candidates if (search.fold(given), search.fold(family)) == wanted]


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
    key = external_mrn_key(data.external_mrn)
    _external_mrn_free(location.pk, key)
    if not data.confirm_duplicate:
        duplicates = possible_duplicates(actor, data.given_name, data.family_name, data.date_of_birth)
        if duplicates:
            raise PossibleDuplicate(duplicates)
    fields = data.model_dump(
        exclude={"location", "measurement", "confirm_duplicate", *SECTIONS}, exclude_none=True
    )
    patient = Patient(network_id=location.network_id, location=location, **fields, **_stamp(actor))
    patient.mrn = next_mrn(location.network_id)
    patient.external_mrn_key = key
    patient.search_name = _search_name(patient.family_name, patient.given_name)
    if patient.pregnancy_status != "not_applicable":
        patient.pregnancy_recorded_on = inputs.today()
    try:
        with transaction.atomic():
            patient.save(force_insert=True)
    except IntegrityError as exc:  # a concurrent registration took the external MRN first
        raise _external_mrn_taken() from exc
    search.refresh(patient)
    if data.measurement is not None and not data.measurement.is_empty:
        _add_measurement(patient, data.measurement, actor)
    for key in SECTIONS:
        for index, item in enumerate(getattr(data, key)):
            try:
                _add_entry(patient, item, actor)
            except InvalidInput as exc:
                raise InvalidInput({f"{key}.{index}.{k}": v for k, v in exc.errors.items()}) from exc
    listfacts.refresh(patient.pk)
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
    _refuse_if_entered_in_error(patient)
    sent = data.model_dump(exclude_unset=True)
    if sent.get("sex") == "male" and sent.get("pregnancy_status", patient.pregnancy_status) == "pregnant":
        raise InvalidInput({"pregnancy_status": "cannot be 'pregnant' when sex is male"})
    changed = sorted(k for k, v in sent.items() if v is not None and getattr(patient, k) != v)
    if not changed:
        return patient
    for name in changed:
        setattr(patient, name, sent[name])
    if "external_mrn" in changed:
        patient.external_mrn_key = external_mrn_key(patient.external_mrn)
        _external_mrn_free(patient.location_id, patient.external_mrn_key, patient.pk)
    if "pregnancy_status" in changed or "breastfeeding" in changed:
        patient.pregnancy_recorded_on = inputs.today()
    patient.search_name = _search_name(patient.family_name, patient.given_name)
    patient.version += 1
    patient.updated_at, patient.updated_by = timezone.now(), actor
    try:
        with transaction.atomic():
            patient.save()
    except IntegrityError as exc:  # a concurrent change took the external MRN first
        raise _external_mrn_taken() from exc
    if SEARCHED_FIELDS.intersection(changed):
        search.refresh(patient)
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
def do_mark_patient_entered_in_error(
    patient: Patient, data: inputs.EnteredInError, *, actor: Any, origin: Origin = SYSTEM
) -> Patient:
    """A registration made by mistake: kept with the reason, hidden from lists and search, its external
    MRN freed for the right registration. It cannot be undone or changed afterwards."""
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    if patient.entered_in_error_at is not None:
        raise InvalidInput({"reason": "this registration is already marked entered in error"})
    now = timezone.now()
    patient.entered_in_error_at, patient.entered_in_error_by = now, actor
    patient.entered_in_error_reason = data.reason
    patient.external_mrn_key = ""
    patient.version += 1
    patient.updated_at, patient.updated_by = now, actor
    patient.save()
    search.refresh(patient)  # removes its tokens
    record(
        Action.PATIENT_UPDATE,
        actor=actor,
        origin=origin,
        obj=patient,
        patient=patient,
        changed_fields=["entered_in_error_at", "entered_in_error_reason"],
    )
    return patient


def _refuse_if_entered_in_error(patient: Patient) -> None:
    """A registration entered in error is kept as it was: nothing more is charted on it."""
    if patient.entered_in_error_at is not None:
        raise InvalidInput(
            {"entered_in_error": "this registration was entered in error; it cannot be changed"}
        )


@transaction.atomic
def do_add_history_entry(
    patient: Patient, data: HistoryInput, *, actor: Any, origin: Origin = SYSTEM
) -> PatientEntry:
    """Add an entry to one of the history sections (patients/sections.py), chosen by the input's type."""
    _refuse_if_entered_in_error(patient)
    entry = _add_entry(patient, data, actor)
    listfacts.refresh(patient.pk)
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
    _refuse_if_entered_in_error(patient)
    measurement = _add_measurement(patient, data, actor)
    listfacts.refresh(patient.pk)
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
    listfacts.refresh(entry.patient_id)
    record(
        Action.RECORD_UPDATE,
        actor=actor,
        origin=origin,
        obj=entry,
        patient=entry.patient,
        changed_fields=changed,
    )
    return entry
