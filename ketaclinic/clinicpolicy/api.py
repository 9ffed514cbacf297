"""API routes of clinic policy (mounted under /api/v1 by ketaclinic/api/app.py).

The policy of a location is a clinic admin's (read and change); its chairs and rooms are read by every
staff member of the location and changed by its clinic admins. Another location is a 404.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from ninja import Router
from ninja.errors import HttpError

from ketaclinic.accounts.access import can
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.context import origin_of
from ketaclinic.audit.denials import deny
from ketaclinic.audit.models import Via
from ketaclinic.clinical.policy import policy_fields, policy_to_json
from ketaclinic.clinicpolicy import actions, queries
from ketaclinic.clinicpolicy.access import get_chair_for, get_location_for
from ketaclinic.clinicpolicy.inputs import ChairChangeIn, ChairIn, PolicyChangeIn
from ketaclinic.clinicpolicy.models import Chair
from ketaclinic.clinicpolicy.schemas import (
    ANY_OPERATION,
    NOT_FOUND,
    PAGE_LIMIT_DEFAULT,
    WITH_BODY,
    ChairOut,
    ChairPage,
    ErrorOut,
    Limit,
    Offset,
    PolicyOut,
    errors,
)
from ketaclinic.clinicpolicy.values import DEFAULTS_JSON, policy_of
from ketaclinic.errors import Forbidden, InvalidInput

router = Router(tags=["Clinic policy"])
READ = errors(*ANY_OPERATION, NOT_FOUND)
WRITTEN = errors(*ANY_OPERATION, NOT_FOUND, *WITH_BODY)


def _origin(request: HttpRequest) -> Any:
    return origin_of(request, Via.API)


def _location(request: HttpRequest, location_id: int, perm: Perm) -> ClinicLocation:
    origin = _origin(request)
    if not can(request.user, perm):
        deny(request.user, origin, str(perm))
        raise Forbidden
    return get_location_for(request.user, location_id, perm, origin=origin)


def if_match(request: HttpRequest, what: str) -> int:
    """The version the client read (If-Match): 428 without it, 412 when it is not a version."""
    raw = request.headers.get("If-Match", "").strip()
    if not raw:
        raise HttpError(428, f"Send If-Match with the ETag from your last read of this {what}.")
    try:
        return int(raw.removeprefix("W/").strip('"'))
    except ValueError as exc:
        raise HttpError(412, f"If-Match does not match this {what}'s ETag.") from exc


def _if_match_parameter(what: str) -> dict[str, Any]:
    return {
        "name": "If-Match",
        "in": "header",
        "required": True,
        "description": f"The ETag of your last read of this {what} (428 without it, 412 when it changed "
        "since).",
        "schema": {"type": "string", "pattern": "[^ \t]"},
    }


def policy_body(location: ClinicLocation) -> dict[str, Any]:
    version, overrides = queries.overrides_of(location)
    policy = policy_of(overrides)
    values = policy_to_json(policy)
    return {
        "location": location.pk,
        "time_zone": location.time_zone,
        "version": version,
        "values": values,
        "defaults": DEFAULTS_JSON,
        "overrides": overrides,
        "fields": [
            {
                "name": f.name,
                "value": values[f.name],
                "default": DEFAULTS_JSON[f.name],
                "overridden": f.name in overrides,
                "basis": f.basis,
                "description": f.description,
                "sources": list(f.sources),
            }
            for f in policy_fields(policy)
        ],
    }


def _policy_response(location: ClinicLocation) -> HttpResponse:
    body = PolicyOut(**policy_body(location))
    response = HttpResponse(body.model_dump_json(), content_type="application/json")
    response["ETag"] = f'"{body.version}"'
    return response


@router.get(
    "/locations/{location_id}/policy",
    response={200: PolicyOut, **READ},
    summary="Read a location's clinic policy",
)
def read_policy(request: HttpRequest, location_id: int) -> Any:
    """Every clinic-policy value in force at the location with its default, basis, description and sources,
    the time zone and the version (also the ETag). Clinic admins of the location only."""
    location = _location(request, location_id, Perm.CLINIC_MANAGE)
    return _policy_response(location)


@router.patch(
    "/locations/{location_id}/policy",
    response={200: PolicyOut, 412: ErrorOut, 428: ErrorOut, **WRITTEN},
    summary="Change a location's clinic policy",
    openapi_extra={"parameters": [_if_match_parameter("policy")]},
)
def change_policy(request: HttpRequest, location_id: int, body: PolicyChangeIn) -> Any:
    """Set values (`values`), put some back to their default (`reset`) and/or change `time_zone`, with a
    `reason`, and `If-Match` set to the ETag of your last read. A refused value is a 422 naming
    `values.<field>`; nothing is saved. New screenings and sessions follow the new policy."""
    location = _location(request, location_id, Perm.CLINIC_MANAGE)
    expected = if_match(request, "policy")
    actions.do_change_policy(
        location, body, actor=request.user, origin=_origin(request), expected_version=expected
    )
    location.refresh_from_db(fields=["time_zone"])
    return _policy_response(location)


def _chair(chair: Chair) -> dict[str, Any]:
    return {
        "id": chair.pk,
        "name": chair.name,
        "kind": chair.kind,
        "active": chair.active,
        "version": chair.version,
    }


@router.get(
    "/locations/{location_id}/chairs",
    response={200: ChairPage, **READ},
    summary="List a location's chairs and rooms (paged)",
)
def list_chairs(
    request: HttpRequest, location_id: int, limit: Limit = PAGE_LIMIT_DEFAULT, offset: Offset = 0
) -> Any:
    """Chairs and rooms in use first, then retired ones. Staff of the location."""
    location = _location(request, location_id, Perm.CLINIC_READ)
    rows = queries.chairs_of(location)
    return {
        "count": rows.count(),
        "limit": limit,
        "offset": offset,
        "items": [_chair(c) for c in rows[offset : offset + limit]],
    }


@router.post(
    "/locations/{location_id}/chairs",
    response={201: ChairOut, **WRITTEN},
    summary="Add a chair or room",
)
def add_chair(request: HttpRequest, location_id: int, body: ChairIn) -> Any:
    """A new chair or room; its name is unique at the location. Clinic admins of the location."""
    location = _location(request, location_id, Perm.CLINIC_MANAGE)
    chair = actions.do_add_chair(location, body, actor=request.user, origin=_origin(request))
    response = HttpResponse(
        ChairOut(**_chair(chair)).model_dump_json(), status=201, content_type="application/json"
    )
    response["Location"] = f"{request.path.rstrip('/')}/{chair.pk}"
    response["ETag"] = f'"{chair.version}"'
    return response


@router.get(
    "/locations/{location_id}/chairs/{chair_id}",
    response={200: ChairOut, **READ},
    summary="Read one chair or room",
)
def read_chair(request: HttpRequest, location_id: int, chair_id: int) -> Any:
    location = _location(request, location_id, Perm.CLINIC_READ)
    chair = get_chair_for(location, chair_id, user=request.user, origin=_origin(request))
    response = HttpResponse(ChairOut(**_chair(chair)).model_dump_json(), content_type="application/json")
    response["ETag"] = f'"{chair.version}"'
    return response


@router.patch(
    "/locations/{location_id}/chairs/{chair_id}",
    response={200: ChairOut, 412: ErrorOut, 428: ErrorOut, **WRITTEN},
    summary="Rename or retire a chair or room",
    openapi_extra={"parameters": [_if_match_parameter("chair")]},
)
def change_chair(request: HttpRequest, location_id: int, chair_id: int, body: ChairChangeIn) -> Any:
    """`name` renames it; `"active": false` retires it (it is kept for the sessions that used it, and a
    retired one is not brought back). `If-Match`: the chair's ETag. Clinic admins of the location."""
    location = _location(request, location_id, Perm.CLINIC_MANAGE)
    origin = _origin(request)
    chair = get_chair_for(location, chair_id, user=request.user, origin=origin)
    expected = if_match(request, "chair")
    if body.name is None and body.active is None:
        raise InvalidInput({"name": "send a new name, or active false to retire it"})
    if body.active is True and not chair.active:
        raise InvalidInput({"active": "a retired chair or room stays retired; add a new one instead"})
    with transaction.atomic():  # both or neither
        chair = _apply(chair, body, request, expected)
    response = HttpResponse(ChairOut(**_chair(chair)).model_dump_json(), content_type="application/json")
    response["ETag"] = f'"{chair.version}"'
    return response


def _apply(chair: Chair, body: ChairChangeIn, request: HttpRequest, expected: int) -> Chair:
    origin = _origin(request)
    if body.name is not None:
        chair = actions.do_rename_chair(
            chair, body.name, actor=request.user, origin=origin, expected_version=expected
        )
        expected = chair.version
    if body.active is False:
        chair = actions.do_retire_chair(chair, actor=request.user, origin=origin, expected_version=expected)
    return chair
