"""API routes of consent (mounted under /api/v1 by ketaclinic/api/app.py): the current consent documents,
and a patient's signed consent witnessed by the signed-in staff member. Same actions as the pages."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router

from ketaclinic.accounts.access import can
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import origin_of
from ketaclinic.audit.denials import deny
from ketaclinic.audit.models import Action, Via
from ketaclinic.clinical.common import Modality
from ketaclinic.consent import actions, inputs, queries
from ketaclinic.consent.access import DOCUMENT_READERS, document_location_ids, patient_for_witness
from ketaclinic.consent.schemas import ConsentOut, DocumentOut, consent_out, document_out
from ketaclinic.errors import Forbidden
from ketaclinic.patients.schemas import (
    ANY_OPERATION,
    NOT_FOUND,
    WITH_BODY,
    errors,
)

router = Router(tags=["Consent"])
LISTED = errors(*ANY_OPERATION)
# 409: the patient's registration was entered in error (nothing more is recorded on it).
WRITTEN = errors(*ANY_OPERATION, NOT_FOUND, *WITH_BODY, 409)


def _origin(request: HttpRequest) -> Any:
    return origin_of(request, Via.API)


@router.get(
    "/consent-documents",
    # A plain list, as the treatment workflow's API contract gives it: a location keeps one current document
    # per modality, so the list is short.
    response={200: list[DocumentOut], **LISTED},
    summary="The current consent documents of your locations (optionally of one modality)",
)
def list_documents(
    request: HttpRequest,
    modality: Modality | None = None,
) -> Any:
    if not any(can(request.user, p) for p in DOCUMENT_READERS):
        deny(request.user, _origin(request), str(Perm.PATIENT_READ))
        raise Forbidden
    locations = document_location_ids(request.user)
    slugs = dict(ClinicLocation.objects.filter(pk__in=locations).values_list("pk", "slug"))
    rows = queries.current_documents(locations, modality.value if modality else None)
    return [document_out(d, slugs[d.location_id]) for d in rows]


@router.post(
    "/patients/{patient_id}/consents",
    response={201: ConsentOut, **WRITTEN},
    summary="Record the patient's signed consent, witnessed by you",
)
def sign(request: HttpRequest, patient_id: str, body: inputs.ConsentIn) -> HttpResponse:
    if not can(request.user, Perm.CONSENT_WITNESS):
        deny(request.user, _origin(request), str(Perm.CONSENT_WITNESS))
        raise Forbidden
    origin = _origin(request)
    patient = patient_for_witness(request.user, patient_id, origin=origin)
    consent = actions.do_sign_consent(patient, body, actor=request.user, origin=origin)
    record(Action.PATIENT_READ, actor=request.user, origin=origin, obj=consent, patient=patient)
    response = HttpResponse(json.dumps(consent_out(consent)), status=201, content_type="application/json")
    response["Location"] = f"/api/v1/patients/{patient.pk}/consents/{consent.pk}"
    return response
