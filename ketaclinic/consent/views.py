"""Pages of consent: the documents a clinic admin keeps and publishes, a patient's consents per modality, and
the tablet page where the patient signs and the staff member present witnesses. Same actions as the API."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods
from pydantic import ValidationError

from ketaclinic.accounts.access import can
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.denials import deny
from ketaclinic.audit.models import Action
from ketaclinic.clinical.common import Modality
from ketaclinic.clinicpolicy.clock import local_now
from ketaclinic.consent import actions, inputs, queries
from ketaclinic.consent.access import document_editor_location_ids, document_id, patient_for_witness
from ketaclinic.consent.models import ConsentDocument
from ketaclinic.errors import InvalidInput, NotFound, Refused, field_errors
from ketaclinic.patients.access import get_patient_for
from ketaclinic.patients.models import Patient
from ketaclinic.patients.picture import MODALITY_LABELS
from ketaclinic.web.shortcuts import form_errors, requires, web_origin

LABELS = {
    "location": "Location",
    "modality": "Modality",
    "title": "Title",
    "body": "Text",
    "signed_name": "Full name",
    "signature_png": "Signature",
    "witness_confirmed": "Witness",
    "document_id": "Document",
}
MODALITY_CHOICES = [(m.value, MODALITY_LABELS[m]) for m in Modality]


def _read(request: HttpRequest, patient: Patient, obj: Any = None) -> None:
    record(
        Action.PATIENT_READ,
        actor=request.user,
        origin=web_origin(request),
        obj=obj or patient,
        patient=patient,
    )


def _editor_locations(request: HttpRequest) -> list[ClinicLocation]:
    return list(
        ClinicLocation.objects.filter(pk__in=document_editor_location_ids(request.user)).order_by("name")
    )


@requires(Perm.CONSENT_DOCUMENTS)
@require_GET
def documents(request: HttpRequest) -> HttpResponse:
    """Every version of the documents of the admin's locations, current ones marked."""
    locations = _editor_locations(request)
    rows = list(
        ConsentDocument.objects.filter(location__in=locations)
        .select_related("location")
        .order_by("location__name", "modality", "-version")
    )
    current = {d.pk for d in queries.current_documents([loc.pk for loc in locations])}
    context = {"rows": rows, "current": current, "labels": dict(MODALITY_CHOICES)}
    return render(request, "consent/documents.html", context)


def _document_for_editor(request: HttpRequest, pk: str) -> ConsentDocument:
    doc = (
        ConsentDocument.objects.filter(
            pk=document_id(pk), location_id__in=document_editor_location_ids(request.user)
        )
        .select_related("location", "created_by")
        .first()
        if 0 < document_id(pk) < 2**63
        else None
    )
    if doc is None:
        # Another location's document, or none: not found, and in the trail like any refused access.
        deny(request.user, web_origin(request), "consent document")
        raise NotFound
    return doc


@requires(Perm.CONSENT_DOCUMENTS)
@require_GET
def document(request: HttpRequest, pk: str) -> HttpResponse:
    doc = _document_for_editor(request, pk)
    latest = queries.current_document(doc.location_id, doc.modality)
    context = {
        "doc": doc,
        "is_current": latest is not None and latest.pk == doc.pk,
        "labels": dict(MODALITY_CHOICES),
    }
    return render(request, "consent/document.html", context)


@requires(Perm.CONSENT_DOCUMENTS)
@require_http_methods(["GET", "POST"])
def publish(request: HttpRequest) -> HttpResponse:
    """Publish a new version; opened from a document, the form starts from that document's text."""
    locations = _editor_locations(request)
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "GET":
        start = request.GET.get("from", "")
        if start:
            doc = _document_for_editor(request, start)
            values = {
                "location": doc.location.slug,
                "modality": doc.modality,
                "title": doc.title,
                "body": doc.body,
            }
    else:
        values = request.POST
        slug = request.POST.get("location", "")
        location = next((loc for loc in locations if loc.slug == slug), None)
        try:
            if location is None:
                raise InvalidInput({"location": "choose a location whose documents you keep"})
            try:
                data = inputs.DocumentIn.model_validate(
                    {f: request.POST.get(f, "") for f in ("modality", "title", "body")}
                )
            except ValidationError as exc:
                raise InvalidInput(field_errors(exc)) from exc
            published = actions.do_publish_document(
                location, data, actor=request.user, origin=web_origin(request)
            )
            return redirect(f"/consent/documents/{published.pk}/")
        except InvalidInput as exc:
            errors, status = form_errors(exc.errors), 422
        except Refused as exc:
            errors, status = {"modality": exc.detail}, 409
    context = {
        "locations": [(loc.slug, loc.name) for loc in locations],
        "modalities": MODALITY_CHOICES,
        "values": values,
        "errors": errors,
        "field_labels": LABELS,
    }
    return render(request, "consent/publish.html", context, status=status)


def _statuses(patient: Patient) -> list[dict[str, Any]]:
    out = []
    for m in Modality:
        doc = queries.current_document(patient.location_id, m.value)
        signed = queries.latest_consent(patient, m.value)
        out.append(
            {
                "modality": m.value,
                "label": MODALITY_LABELS[m],
                "document": doc,
                "signed": signed,
                "current": doc is not None and signed is not None and signed.document_id == doc.pk,
            }
        )
    return out


@requires(Perm.PATIENT_READ)
@require_GET
def patient_consents(request: HttpRequest, pk: str) -> HttpResponse:
    patient = get_patient_for(request.user, pk, origin=web_origin(request))
    _read(request, patient)
    context = {
        "patient": patient,
        "rows": _statuses(patient),
        "can_witness": can(request.user, Perm.CONSENT_WITNESS, patient.location_id)
        and not patient.entered_in_error_at,
        "saved": request.GET.get("saved") == "1",
    }
    return render(request, "consent/patient.html", context)


@requires(Perm.CONSENT_WITNESS)
@require_http_methods(["GET", "POST"])
def sign(request: HttpRequest, pk: str, doc_id: str) -> HttpResponse:
    """The tablet page: the document in large type, the patient's typed name and drawn signature, then the
    staff member confirms they witnessed it."""
    origin = web_origin(request)
    patient = patient_for_witness(request.user, pk, origin=origin)
    doc = (
        ConsentDocument.objects.filter(pk=document_id(doc_id), location_id=patient.location_id).first()
        if 0 < document_id(doc_id) < 2**63
        else None
    )
    if doc is None:
        deny(request.user, origin, "consent document")
        raise NotFound
    errors: dict[str, str] = {}
    refused: Refused | None = None
    status = 200
    if request.method == "POST":
        fields = {f: request.POST.get(f, "") for f in ("signed_name", "signature_png")}
        try:
            problems: dict[str, str] = {}
            if request.POST.get("witness_confirmed") != "on":
                problems["witness_confirmed"] = "confirm that you witnessed the patient sign"
            try:
                data = inputs.ConsentIn.model_validate(
                    {
                        "document_id": doc.pk,
                        "signed_name": fields["signed_name"],
                        "signature_png": fields["signature_png"] or None,
                    }
                )
            except ValidationError as exc:
                problems = {**field_errors(exc), **problems}
                raise InvalidInput(problems) from exc
            if problems:
                raise InvalidInput(problems)
            actions.do_sign_consent(patient, data, actor=request.user, origin=origin)
            return redirect(f"/consent/patients/{patient.pk}/?saved=1")
        except InvalidInput as exc:
            errors, status = form_errors(exc.errors), 422
        except Refused as exc:
            refused, status = exc, 409
    _read(request, patient, doc)
    latest = queries.current_document(patient.location_id, doc.modality)
    context = {
        "patient": patient,
        "doc": doc,
        "is_current": latest is not None and latest.pk == doc.pk,
        "now": local_now(patient.location),
        "values": request.POST if request.method == "POST" else {},
        "errors": errors,
        "refused": refused,
        "field_labels": LABELS,
        "labels": dict(MODALITY_CHOICES),
    }
    return render(request, "consent/sign.html", context, status=status)
