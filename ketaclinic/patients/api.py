"""/api/v1/patients: parse, authorise, call an action, return a schema. Same actions as the pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router
from ninja.errors import HttpError
from ninja.responses import Status

from ketaclinic.accounts.access import can, location_ids
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import origin_of
from ketaclinic.audit.denials import deny
from ketaclinic.audit.models import Action, Via
from ketaclinic.clinical.vocab import CONDITIONS
from ketaclinic.errors import Forbidden, PossibleDuplicate
from ketaclinic.patients import actions, inputs, queries, sections
from ketaclinic.patients.access import get_entry_for, get_patient_for
from ketaclinic.patients.models import BodyMeasurement, Patient
from ketaclinic.patients.schemas import (
    ANY_OPERATION,
    NOT_FOUND,
    PAGE_LIMIT_DEFAULT,
    WITH_BODY,
    AllergyOut,
    ConditionOut,
    DuplicatesOut,
    EnteredInErrorOut,
    ErrorOut,
    Limit,
    MeasurementOut,
    MedicationOut,
    Offset,
    Page,
    PatientOut,
    PatientPage,
    SearchIn,
    SubstanceUseOut,
    TrialOut,
    errors,
    picture_out,
)
from ketaclinic.patients.search import Listed
from ketaclinic.patients.sections import SECTIONS, Section

router = Router(tags=["patients"])
# Every status an operation can answer is in the OpenAPI document (schemas.py says when each comes).
LISTED = errors(*ANY_OPERATION)
SEARCHED = errors(*ANY_OPERATION, *WITH_BODY)
READ = errors(*ANY_OPERATION, NOT_FOUND)
WRITTEN = errors(*ANY_OPERATION, NOT_FOUND, *WITH_BODY)


def _origin(request: HttpRequest) -> Any:
    return origin_of(request, Via.API)


def _require(request: HttpRequest, perm: Perm) -> None:
    if not can(request.user, perm):
        deny(request.user, _origin(request), str(perm))
        raise Forbidden


# Read by the handler itself, which answers 428 without it and 412 when it is not the current ETag.
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": True,
    "description": "The ETag of your last read of this patient (428 without it, 412 when it changed since).",
    # Blank is as good as missing (428).
    "schema": {"type": "string", "pattern": "[^ \t]"},
}


def _etag(patient: Patient) -> str:
    return f'"{patient.version}"'


def _summary(p: Patient | Listed) -> dict[str, Any]:
    return {
        "id": p.pk,
        "mrn": p.mrn,
        "external_mrn": p.external_mrn,
        "given_name": p.given_name,
        "family_name": p.family_name,
        "date_of_birth": p.date_of_birth,
        "sex": p.sex,
        "location": p.location.slug,
    }


def _fields(instance: Any, **extra: Any) -> dict[str, Any]:
    """An entry's stored fields as the API shows them (all but its patient and authors), plus `extra`.

    Read from the instance's own values (`__dict__`, which is what a field's attribute returns) by names
    listed once per model: getattr field by field cost about 8 us an entry, a third of a 50-trial chart's
    extra cost in the API (bench/reads_profile.py). A deferred field is a KeyError, never a query.
    """
    values, model = instance.__dict__, instance.__class__
    return {**{name: values[name] for name in _shown(model)}, **extra}


_NOT_SHOWN = frozenset({"patient", "created_by", "updated_by"})


@cache
def _shown(model: Any) -> tuple[str, ...]:
    shown = [f for f in model._meta.concrete_fields if f.name not in _NOT_SHOWN]
    for f in shown:
        if f.is_relation:  # its value is the related row, not a stored column: not read this way
            raise TypeError(
                f"patients.api._fields: {model.__name__}.{f.name} is a relation; name it in _NOT_SHOWN"
            )
    return tuple(f.name for f in shown)


def _condition(x: Any) -> dict[str, Any]:
    return _fields(x, display=CONDITIONS[x.code].display)


def _medication(x: Any) -> dict[str, Any]:
    return _fields(
        x,
        name=queries.drug_name(x.drug, x.other_name),
        interaction_classes=queries.interaction_classes(x.drug),
    )


def _trial(x: Any) -> dict[str, Any]:
    return _fields(x, name=queries.drug_name(x.drug, x.other_name))


# What a section's entry adds to its stored fields in the API (names from codes); the rest show as stored.
EXTRA: dict[str, Callable[[Any], dict[str, Any]]] = {
    "conditions": _condition,
    "medications": _medication,
    "antidepressant_trials": _trial,
}


def _item(key: str, entry: Any) -> dict[str, Any]:
    return EXTRA.get(key, _fields)(entry)


def _latest(c: queries.Chart) -> dict[str, Any]:
    weight, height, resting = c.weight, c.height, c.picture.resting
    return {
        "systolic_mmhg": resting.systolic_mmhg if resting else None,
        "diastolic_mmhg": resting.diastolic_mmhg if resting else None,
        "heart_rate_bpm": resting.heart_rate_bpm if resting else None,
        "resting_measured_on": resting.measured_on if resting else None,
        "weight_kg": weight.weight_kg if weight else None,
        "weight_measured_on": weight.measured_on if weight else None,
        "height_cm": height.height_cm if height else None,
        "height_measured_on": height.measured_on if height else None,
        "bmi": c.bmi,
    }


def _chart_body(patient: Patient) -> dict[str, Any]:
    c = queries.chart(patient)
    return {
        **_summary(patient),
        **{
            f: getattr(patient, f)
            for f in (
                "version",
                "phone",
                "email",
                "address",
                "emergency_contact_name",
                "emergency_contact_phone",
                "emergency_contact_relationship",
                "pregnancy_status",
                "breastfeeding",
                "pregnancy_recorded_on",
                "entered_in_error_at",
                "entered_in_error_reason",
            )
        },
        "latest_measurements": _latest(c),
        **{key: [_item(key, x) for x in shown.entries] for key, shown in c.sections.items()},
        "adequate_failed_trials_current_episode": c.adequate_failed_trials,
        "clinical_picture": picture_out(c.picture),
        "history_totals": {key: shown.total for key, shown in c.sections.items()},
    }


def _record_read(request: HttpRequest, patient: Patient, obj: Any = None, part: str = "") -> None:
    """The read event of an answer that carries a patient's record: every such answer writes exactly one,
    whether it answers a read or a write (a write's own event names what changed, not what was shown)."""
    record(
        Action.PATIENT_READ,
        actor=request.user,
        origin=_origin(request),
        obj=patient if obj is None else obj,
        patient=patient,
        changed_fields=[part] if part else [],
    )


def _chart_response(request: HttpRequest, patient: Patient, status: int = 200) -> HttpResponse:
    """The chart as JSON with its ETag and its read event (it answers a read, a registration, an update)."""
    _record_read(request, patient)
    # pydantic writes the JSON itself (in Rust): for a long history, half the cost of dumping to dicts
    # and encoding those again.
    body = PatientOut(**_chart_body(patient)).model_dump_json()
    response = HttpResponse(body, status=status, content_type="application/json")
    response["ETag"] = _etag(patient)
    return response


def _page(request: HttpRequest, query: str, limit: int, offset: int) -> HttpResponse:
    _require(request, Perm.PATIENT_READ)
    rows = queries.search(location_ids(request.user, Perm.PATIENT_READ), query)
    record(
        Action.PATIENT_SEARCH if query else Action.PATIENT_LIST,
        actor=request.user,
        origin=_origin(request),
        changed_fields=["query"] if query else [],
    )
    page = PatientPage(
        count=rows.count(),
        limit=limit,
        offset=offset,
        items=[_summary(p) for p in rows[offset : offset + limit]],  # type: ignore[misc]
    )
    # pydantic writes the JSON itself, as for the chart read.
    return HttpResponse(page.model_dump_json(), content_type="application/json")


@router.get("", response={200: PatientPage, **LISTED}, summary="List patients (paged)")
def list_patients(request: HttpRequest, limit: Limit = PAGE_LIMIT_DEFAULT, offset: Offset = 0) -> Any:
    """The patients of every location where you may read charts, by name. Search with POST /search."""
    return _page(request, "", limit, offset)


@router.post("/search", response={200: PatientPage, **SEARCHED}, summary="Search patients")
def search_patients(request: HttpRequest, body: SearchIn) -> Any:
    """Search by name (any order, the start of each word, accents ignored), MRN, external MRN or date of
    birth (YYYY-MM-DD). POST keeps PHI out of URLs and logs. Unknown fields are refused (422)."""
    return _page(request, body.q[:100], body.limit, body.offset)


@router.post("", response={201: PatientOut, 409: DuplicatesOut, **SEARCHED}, summary="Register a patient")
def create_patient(request: HttpRequest, body: inputs.PatientCreate) -> Any:
    """Register a patient with intake history in one request; nothing is saved if any part is invalid.

    KetaClinic assigns the MRN. When a patient you can see has the same name and date of birth, the answer
    is 409 listing their ids; send the body again with `"confirm_duplicate": true` to register anyway. The
    201 answer's `Location` is the new patient's URL.
    """
    _require(request, Perm.PATIENT_WRITE)
    try:
        patient = actions.do_register_patient(body, actor=request.user, origin=_origin(request))
    except PossibleDuplicate as exc:
        # The ids say that patients with this name and date of birth exist: a search, audited as one.
        record(
            Action.PATIENT_SEARCH,
            actor=request.user,
            origin=_origin(request),
            changed_fields=queries.DUPLICATE_FIELDS,
        )
        detail = (
            "A patient with this name and date of birth is already registered. "
            'Send "confirm_duplicate": true to register anyway.'
        )
        return Status(409, DuplicatesOut(detail=detail, duplicates=exc.patient_ids))
    response = _chart_response(request, patient, status=201)
    response["Location"] = f"{request.path.rstrip('/')}/{patient.pk}"
    return response


@router.post(
    "/{patient_id}/entered-in-error",
    response={200: EnteredInErrorOut, **WRITTEN},
    summary="Mark a registration entered in error",
)
def mark_entered_in_error(request: HttpRequest, patient_id: str, body: inputs.EnteredInError) -> Any:
    """A registration made by mistake (a duplicate, the wrong person): kept with the reason, hidden from
    lists and search. It cannot be undone."""
    _require(request, Perm.PATIENT_WRITE)
    origin = _origin(request)
    patient = get_patient_for(request.user, patient_id, write=True, origin=origin)
    patient = actions.do_mark_patient_entered_in_error(patient, body, actor=request.user, origin=origin)
    _record_read(request, patient)
    return {
        "id": patient.pk,
        "mrn": patient.mrn,
        "entered_in_error_at": patient.entered_in_error_at,
        "entered_in_error_reason": patient.entered_in_error_reason,
    }


@router.get("/{patient_id}", response={200: PatientOut, **READ}, summary="Read a patient's chart")
def read_patient(request: HttpRequest, patient_id: str) -> Any:
    _require(request, Perm.PATIENT_READ)
    origin = _origin(request)
    patient = get_patient_for(request.user, patient_id, origin=origin)
    return _chart_response(request, patient)


@router.patch(
    "/{patient_id}",
    response={200: PatientOut, 412: ErrorOut, 428: ErrorOut, **WRITTEN},
    summary="Update demographics",
    openapi_extra={"parameters": [IF_MATCH]},
)
def update_patient(request: HttpRequest, patient_id: str, body: inputs.PatientUpdate) -> Any:
    """Send only the fields to change, with `If-Match` set to the ETag of your last read."""
    _require(request, Perm.PATIENT_WRITE)
    origin = _origin(request)
    patient = get_patient_for(request.user, patient_id, write=True, origin=origin)
    if_match = request.headers.get("If-Match", "").strip()
    if not if_match:
        raise HttpError(428, "Send If-Match with the ETag from your last read of this patient.")
    try:
        expected = int(if_match.removeprefix("W/").strip('"'))
    except ValueError as exc:
        raise HttpError(412, "If-Match does not match this patient's ETag.") from exc
    patient = actions.do_update_patient(
        patient, body, actor=request.user, origin=origin, expected_version=expected
    )
    return _chart_response(request, patient)


# The history sections (patients/sections.py): list, read one, add, change status. Each path's last segment
# is the section's key, as in the chart's URLs and the patient read's fields.


def _read_part(request: HttpRequest, patient_id: str, part: str) -> Patient:
    """The patient whose `part` (a section, the measurements) is read, with the read's audit event."""
    _require(request, Perm.PATIENT_READ)
    patient = get_patient_for(request.user, patient_id, origin=_origin(request))
    _record_read(request, patient, part=part)
    return patient


def _read_one(request: HttpRequest, patient_id: str, model: Any, entry_id: int) -> Any:
    """One row of a patient's record (404 for another patient's row), with the read's audit event."""
    _require(request, Perm.PATIENT_READ)
    origin = _origin(request)
    patient = get_patient_for(request.user, patient_id, origin=origin)
    entry = get_entry_for(patient, model, entry_id, user=request.user, origin=origin)
    _record_read(request, patient, obj=entry)
    return entry


def _section_page(
    request: HttpRequest, patient_id: str, section: Section, limit: int, offset: int
) -> dict[str, Any]:
    patient = _read_part(request, patient_id, section.key)
    rows = queries.entries(section.model, patient, limit=limit, offset=offset)
    return {
        "count": queries.count(section.model, patient),
        "limit": limit,
        "offset": offset,
        "items": [_item(section.key, x) for x in rows],
    }


def _read_entry(request: HttpRequest, patient_id: str, section: Section, entry_id: int) -> dict[str, Any]:
    return _item(section.key, _read_one(request, patient_id, section.model, entry_id))


def _created(request: HttpRequest, body: str, entry_id: int) -> HttpResponse:
    """201 with the new entry, and its URL (the section's URL and the entry's id) in Location."""
    response = HttpResponse(body, status=201, content_type="application/json")
    response["Location"] = f"{request.path.rstrip('/')}/{entry_id}"
    return response


def _add(request: HttpRequest, patient_id: str, body: actions.HistoryInput) -> HttpResponse:
    """Add an entry to the section whose input `body` is; 201 with the entry and its URL."""
    _require(request, Perm.PATIENT_WRITE)
    origin = _origin(request)
    patient = get_patient_for(request.user, patient_id, write=True, origin=origin)
    entry = actions.do_add_history_entry(patient, body, actor=request.user, origin=origin)
    _record_read(request, patient, obj=entry)
    section = sections.for_input(body)
    return _created(
        request, section.output.model_validate(_item(section.key, entry)).model_dump_json(), entry.pk
    )


def _status(
    request: HttpRequest, patient_id: str, section: Section, entry_id: int, change: inputs.StatusChange
) -> dict[str, Any]:
    _require(request, Perm.PATIENT_WRITE)
    origin = _origin(request)
    patient = get_patient_for(request.user, patient_id, write=True, origin=origin)
    entry = get_entry_for(patient, section.model, entry_id, user=request.user, origin=origin)
    actions.do_change_entry_status(entry, change, actor=request.user, origin=origin)
    _record_read(request, patient, obj=entry)
    return _item(section.key, entry)


def _register_reads_and_status(section: Section) -> None:
    """GET the section (paged), GET one entry, PATCH an entry's status: the same for every section."""
    key, out = section.key, section.output

    def list_entries(
        request: HttpRequest, patient_id: str, limit: Limit = PAGE_LIMIT_DEFAULT, offset: Offset = 0
    ) -> Any:
        return _section_page(request, patient_id, section, limit, offset)

    def read_entry(request: HttpRequest, patient_id: str, entry_id: int) -> Any:
        return _read_entry(request, patient_id, section, entry_id)

    def change_status(request: HttpRequest, patient_id: str, entry_id: int, body: inputs.StatusChange) -> Any:
        return _status(request, patient_id, section, entry_id, body)

    router.get(
        f"/{{patient_id}}/{key}",
        response={200: Page[out], **READ},  # type: ignore[valid-type]
        summary=f"List {section.title.lower()} (paged; every entry, not only the 50 of the chart read)",
        operation_id=f"list_{key}",
    )(list_entries)
    router.get(
        f"/{{patient_id}}/{key}/{{entry_id}}",
        response={200: out, **READ},
        summary=f"Read one {section.noun}",
        operation_id=f"read_{key}",
    )(read_entry)
    router.patch(
        f"/{{patient_id}}/{key}/{{entry_id}}",
        response={200: out, **WRITTEN},
        summary=f"Resolve a {section.noun}, or mark it entered in error with a reason",
        description="Entries are never deleted: the row stays, and the audit trail says who, when and why.",
        operation_id=f"status_{key}",
    )(change_status)


for _section in SECTIONS.values():
    _register_reads_and_status(_section)


# Adding an entry: one route per section, written out so that each body has its own schema.


@router.post("/{patient_id}/conditions", response={201: ConditionOut, **WRITTEN}, summary="Add a condition")
def add_conditions(request: HttpRequest, patient_id: str, body: inputs.ConditionIn) -> HttpResponse:
    return _add(request, patient_id, body)


@router.post(
    "/{patient_id}/medications", response={201: MedicationOut, **WRITTEN}, summary="Add a medication"
)
def add_medications(request: HttpRequest, patient_id: str, body: inputs.MedicationIn) -> HttpResponse:
    return _add(request, patient_id, body)


@router.post("/{patient_id}/allergies", response={201: AllergyOut, **WRITTEN}, summary="Add an allergy")
def add_allergies(request: HttpRequest, patient_id: str, body: inputs.AllergyIn) -> HttpResponse:
    return _add(request, patient_id, body)


@router.post(
    "/{patient_id}/substance_use", response={201: SubstanceUseOut, **WRITTEN}, summary="Add substance use"
)
def add_substance_use(request: HttpRequest, patient_id: str, body: inputs.SubstanceUseIn) -> HttpResponse:
    return _add(request, patient_id, body)


@router.post(
    "/{patient_id}/antidepressant_trials",
    response={201: TrialOut, **WRITTEN},
    summary="Add an antidepressant trial",
)
def add_antidepressant_trials(request: HttpRequest, patient_id: str, body: inputs.TrialIn) -> HttpResponse:
    return _add(request, patient_id, body)


# Measurements: a history of weights and heights, newest first; the patient read carries the latest.


@router.get(
    "/{patient_id}/measurements",
    response={200: Page[MeasurementOut], **READ},
    summary="List measurements, newest first (paged)",
)
def list_measurements(
    request: HttpRequest, patient_id: str, limit: Limit = PAGE_LIMIT_DEFAULT, offset: Offset = 0
) -> Any:
    patient = _read_part(request, patient_id, "measurements")
    rows, count = queries.measurements(patient, limit=limit, offset=offset)
    return {"count": count, "limit": limit, "offset": offset, "items": [_fields(m) for m in rows]}


@router.get(
    "/{patient_id}/measurements/{entry_id}",
    response={200: MeasurementOut, **READ},
    summary="Read a measurement",
)
def read_measurement(request: HttpRequest, patient_id: str, entry_id: int) -> Any:
    return _fields(_read_one(request, patient_id, BodyMeasurement, entry_id))


@router.post(
    "/{patient_id}/measurements", response={201: MeasurementOut, **WRITTEN}, summary="Record a measurement"
)
def add_measurement(request: HttpRequest, patient_id: str, body: inputs.MeasurementIn) -> HttpResponse:
    _require(request, Perm.PATIENT_WRITE)
    origin = _origin(request)
    patient = get_patient_for(request.user, patient_id, write=True, origin=origin)
    measurement = actions.do_record_measurement(patient, body, actor=request.user, origin=origin)
    _record_read(request, patient, obj=measurement)
    return _created(
        request, MeasurementOut.model_validate(_fields(measurement)).model_dump_json(), measurement.pk
    )
