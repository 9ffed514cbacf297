"""/api/v1/patients: parse, authorise, call an action, return a schema. Same actions as the pages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router
from ninja.errors import HttpError
from ninja.responses import Status

from ketaclinic.accounts.access import can, location_ids
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import origin_of
from ketaclinic.audit.models import Action, Via
from ketaclinic.clinical.vocab import CONDITIONS
from ketaclinic.errors import Forbidden, PossibleDuplicate
from ketaclinic.patients import actions, inputs, queries
from ketaclinic.patients.access import deny, get_entry_for, get_patient_for
from ketaclinic.patients.models import Patient
from ketaclinic.patients.schemas import (
    AllergyOut,
    ConditionOut,
    DuplicatesOut,
    EnteredInErrorOut,
    ErrorOut,
    MeasurementOut,
    MedicationOut,
    PatientOut,
    PatientPage,
    SearchIn,
    SubstanceUseOut,
    TrialOut,
)
from ketaclinic.patients.search import Listed

router = Router(tags=["patients"])
MAX_LIMIT = 100
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def _origin(request: HttpRequest) -> Any:
    return origin_of(request, Via.API)


def _require(request: HttpRequest, perm: Perm) -> None:
    if not can(request.user, perm):
        deny(request.user, _origin(request), str(perm))
        raise Forbidden


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


def _entry(e: Any, **extra: Any) -> dict[str, Any]:
    fields = {
        f.name: getattr(e, f.name)
        for f in e._meta.concrete_fields
        if f.name not in {"patient", "created_by", "updated_by"}
    }
    return {**fields, **extra}


def _condition(x: Any) -> dict[str, Any]:
    return _entry(x, display=CONDITIONS[x.code].display)


def _medication(x: Any) -> dict[str, Any]:
    return _entry(
        x,
        name=queries.drug_name(x.drug, x.other_name),
        interaction_classes=queries.interaction_classes(x.drug),
    )


def _trial(x: Any) -> dict[str, Any]:
    return _entry(x, name=queries.drug_name(x.drug, x.other_name))


API_KEYS = {"trials": "antidepressant_trials"}
MAX_SECTION_LIMIT = 500

# How each history section's entries are shown in the API.
ITEM = {
    "conditions": _condition,
    "medications": _medication,
    "allergies": _entry,
    "substance_use": _entry,
    "trials": _trial,
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
        "weight": _entry(c.weight) if c.weight else None,
        "height": _entry(c.height) if c.height else None,
        "conditions": [_condition(x) for x in c.conditions],
        "medications": [_medication(x) for x in c.medications],
        "allergies": [_entry(x) for x in c.allergies],
        "substance_use": [_entry(x) for x in c.substance_uses],
        "antidepressant_trials": [_trial(x) for x in c.trials],
        "adequate_failed_trials_current_episode": c.adequate_failed_trials,
        "history_totals": {API_KEYS.get(k, k): total for k, total in c.totals.items()},
    }


def _chart_response(request: HttpRequest, patient: Patient, status: int = 200) -> HttpResponse:
    # pydantic writes the JSON itself (in Rust): for a long history, half the cost of dumping to dicts
    # and encoding those again.
    body = PatientOut(**_chart_body(patient)).model_dump_json()
    response = HttpResponse(body, status=status, content_type="application/json")
    response["ETag"] = _etag(patient)
    return response


def _page(request: HttpRequest, query: str, limit: int, offset: int) -> HttpResponse:
    if not 1 <= limit <= MAX_LIMIT:
        raise HttpError(422, f"limit must be between 1 and {MAX_LIMIT}")
    if offset < 0:
        raise HttpError(422, "offset cannot be negative")
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


@router.get("", response={200: PatientPage, **ERRORS}, summary="List patients (paged)")
def list_patients(request: HttpRequest, limit: int = 25, offset: int = 0) -> Any:
    """The patients of every location where you may read charts, by name. Search with POST /search."""
    return _page(request, "", limit, offset)


@router.post("/search", response={200: PatientPage, **ERRORS}, summary="Search patients")
def search_patients(request: HttpRequest, body: SearchIn) -> Any:
    """Search by name (any order, the start of each word, accents ignored), MRN, external MRN or date of
    birth (YYYY-MM-DD). POST keeps PHI out of URLs and logs. Unknown fields are refused (422)."""
    return _page(request, body.q[:100], body.limit, body.offset)


@router.post("", response={201: PatientOut, 409: DuplicatesOut, **ERRORS}, summary="Register a patient")
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
    response={200: EnteredInErrorOut, **ERRORS},
    summary="Mark a registration entered in error",
)
def mark_entered_in_error(request: HttpRequest, patient_id: str, body: inputs.EnteredInError) -> Any:
    """A registration made by mistake (a duplicate, the wrong person): kept with the reason, hidden from
    lists and search. It cannot be undone."""
    _require(request, Perm.PATIENT_WRITE)
    origin = _origin(request)
    patient = get_patient_for(request.user, patient_id, write=True, origin=origin)
    patient = actions.do_mark_patient_entered_in_error(patient, body, actor=request.user, origin=origin)
    return {
        "id": patient.pk,
        "mrn": patient.mrn,
        "entered_in_error_at": patient.entered_in_error_at,
        "entered_in_error_reason": patient.entered_in_error_reason,
    }


@router.get("/{patient_id}", response={200: PatientOut, **ERRORS}, summary="Read a patient's chart")
def read_patient(request: HttpRequest, patient_id: str) -> Any:
    _require(request, Perm.PATIENT_READ)
    origin = _origin(request)
    patient = get_patient_for(request.user, patient_id, origin=origin)
    record(Action.PATIENT_READ, actor=request.user, origin=origin, obj=patient, patient=patient)
    return _chart_response(request, patient)


@router.patch(
    "/{patient_id}",
    response={200: PatientOut, 412: ErrorOut, 428: ErrorOut, **ERRORS},
    summary="Update demographics",
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


# URL segment -> (input, output, the chart's section key in queries.SECTION_MODELS)
SECTIONS: dict[str, tuple[type[inputs.Strict], Any, str]] = {
    "conditions": (inputs.ConditionIn, ConditionOut, "conditions"),
    "medications": (inputs.MedicationIn, MedicationOut, "medications"),
    "allergies": (inputs.AllergyIn, AllergyOut, "allergies"),
    "substance-use": (inputs.SubstanceUseIn, SubstanceUseOut, "substance_use"),
    "antidepressant-trials": (inputs.TrialIn, TrialOut, "trials"),
}


def _section_items(
    request: HttpRequest, patient_id: str, key: str, limit: int, offset: int
) -> list[dict[str, Any]]:
    if not 1 <= limit <= MAX_SECTION_LIMIT or offset < 0:
        raise HttpError(422, f"limit must be 1-{MAX_SECTION_LIMIT} and offset 0 or more")
    _require(request, Perm.PATIENT_READ)
    origin = _origin(request)
    patient = get_patient_for(request.user, patient_id, origin=origin)
    record(
        Action.PATIENT_READ,
        actor=request.user,
        origin=origin,
        obj=patient,
        patient=patient,
        changed_fields=[key],
    )
    rows = queries.entries(queries.SECTION_MODELS[key], patient, limit=limit, offset=offset)
    return [ITEM[key](x) for x in rows]


def _add(request: HttpRequest, patient_id: str, body: inputs.Strict, key: str) -> Status[dict[str, Any]]:
    _require(request, Perm.PATIENT_WRITE)
    origin = _origin(request)
    patient = get_patient_for(request.user, patient_id, write=True, origin=origin)
    entry = actions.do_add_history_entry(patient, body, actor=request.user, origin=origin)  # type: ignore[arg-type]
    return Status(201, ITEM[key](entry))


def _status(
    request: HttpRequest, patient_id: str, entry_id: int, change: inputs.StatusChange, section: str
) -> dict[str, Any]:
    _require(request, Perm.PATIENT_WRITE)
    origin = _origin(request)
    patient = get_patient_for(request.user, patient_id, write=True, origin=origin)
    entry = get_entry_for(patient, queries.SECTION_MODELS[SECTIONS[section][2]], entry_id)
    actions.do_change_entry_status(entry, change, actor=request.user, origin=origin)
    return ITEM[SECTIONS[section][2]](entry)


def _register_section(section: str) -> None:
    in_model, out_model, key = SECTIONS[section]
    noun = section.replace("-", " ")

    def list_entries(request: HttpRequest, patient_id: str, limit: int = 100, offset: int = 0) -> Any:
        """Every entry of this section (the chart read holds at most 50; `history_totals` counts them all)."""
        return _section_items(request, patient_id, key, limit, offset)

    def add_entry(request: HttpRequest, patient_id: str, body: inputs.Strict) -> Any:
        return _add(request, patient_id, body, key)

    # The body's schema differs per section; annotations are strings here, so bind the real class.
    add_entry.__annotations__["body"] = in_model

    def change_status(request: HttpRequest, patient_id: str, entry_id: int, body: inputs.StatusChange) -> Any:
        """Resolve or stop an entry, or mark it entered-in-error with a reason. Entries are never deleted."""
        return _status(request, patient_id, entry_id, body, section)

    name = section.replace("-", "_")
    router.get(
        f"/{{patient_id}}/{section}",
        response={200: list[out_model], **ERRORS},
        summary=f"List {noun}",
        operation_id=f"list_{name}",
    )(list_entries)
    router.post(
        f"/{{patient_id}}/{section}",
        response={201: out_model, **ERRORS},
        summary=f"Add to {noun}",
        operation_id=f"add_{name}",
    )(add_entry)
    router.patch(
        f"/{{patient_id}}/{section}/{{entry_id}}",
        response={200: out_model, **ERRORS},
        summary=f"Change the status of an entry in {noun}",
        operation_id=f"status_{name}",
    )(change_status)


for _section in SECTIONS:
    _register_section(_section)


@router.post(
    "/{patient_id}/measurements", response={201: MeasurementOut, **ERRORS}, summary="Record weight/height"
)
def add_measurement(request: HttpRequest, patient_id: str, body: inputs.MeasurementIn) -> Any:
    _require(request, Perm.PATIENT_WRITE)
    origin = _origin(request)
    patient = get_patient_for(request.user, patient_id, write=True, origin=origin)
    measurement = actions.do_record_measurement(patient, body, actor=request.user, origin=origin)
    return Status(201, _entry(measurement))
