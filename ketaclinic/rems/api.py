"""API routes of Spravato REMS (mounted under /api/v1 by ketaclinic/api/app.py)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from ketaclinic.accounts.access import can
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.context import origin_of
from ketaclinic.audit.denials import deny
from ketaclinic.audit.models import Via
from ketaclinic.errors import Forbidden
from ketaclinic.patients.schemas import ANY_OPERATION, PAGE_LIMIT_DEFAULT, WITH_BODY, Limit, Offset, errors
from ketaclinic.rems import actions, queries
from ketaclinic.rems.inputs import RemsSettingIn
from ketaclinic.rems.models import RemsSetting
from ketaclinic.rems.schemas import RemsSettingOut, RemsSettingPage

router = Router(tags=["Spravato REMS"])
LISTED = errors(*ANY_OPERATION)
SAVED = errors(*ANY_OPERATION, 404, 412, *WITH_BODY)


def _origin(request: HttpRequest) -> Any:
    return origin_of(request, Via.API)


def _require(request: HttpRequest, perm: Perm) -> None:
    if not can(request.user, perm):
        deny(request.user, _origin(request), str(perm))
        raise Forbidden


def _setting(row: RemsSetting, slug: str) -> dict[str, Any]:
    names = RemsSettingOut.model_fields.keys() - {"location"}
    return {"location": slug, **{name: getattr(row, name) for name in names}}


@router.get(
    "/rems/settings",
    response={200: RemsSettingPage, **LISTED},
    summary="REMS setting details of your locations",
)
def list_settings(request: HttpRequest, limit: Limit = PAGE_LIMIT_DEFAULT, offset: Offset = 0) -> Any:
    """The certified-setting details of each location whose REMS setting you keep (clinic admins), by
    location name. A location without details yet is not listed."""
    _require(request, Perm.REMS_SETTING_MANAGE)
    locations = queries.managed_locations(request.user)
    rows = queries.settings_by_location(locations)
    items = [_setting(rows[loc.pk], loc.slug) for loc in locations if loc.pk in rows]
    return {"count": len(items), "limit": limit, "offset": offset, "items": items[offset : offset + limit]}


@router.post(
    "/rems/settings", response={200: RemsSettingOut, **SAVED}, summary="Save a location's REMS setting"
)
def save_setting(request: HttpRequest, body: RemsSettingIn) -> Any:
    """Create or change a location's certified-setting details: name, address, certification / enrolment
    id, authorised representative, the monitoring HCP contact its forms start from, and which sedation /
    dissociation items its forms ask (that list is UNVERIFIED: match the live form). Send `version` as last
    read (0 for a location without details); a stale one is 412."""
    _require(request, Perm.REMS_SETTING_MANAGE)
    origin = _origin(request)
    location = queries.location_to_manage(request.user, body.location, origin=origin)
    row = actions.do_save_rems_setting(location, body, actor=request.user, origin=origin)
    return _setting(row, location.slug)
