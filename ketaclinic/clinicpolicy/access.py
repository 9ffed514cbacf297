"""Loading a location or one of its chairs for a user: 404 outside their locations, 403 inside them
without the permission, each refusal audited."""

from __future__ import annotations

from typing import Any

from ketaclinic.accounts.access import grants
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.context import Origin
from ketaclinic.audit.denials import deny
from ketaclinic.clinicpolicy.models import Chair
from ketaclinic.errors import Forbidden, NotFound

_LARGEST_ID = 2**63 - 1


def _id(raw: Any) -> int | None:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return None
    return value if 0 < value <= _LARGEST_ID else None


def get_location_for(user: Any, location_id: Any, perm: Perm, *, origin: Origin) -> ClinicLocation:
    """The location, when the user holds `perm` there. A location where they hold no role (or none at all)
    is NotFound; one where they work without `perm` is Forbidden."""
    held = grants(user)
    pk = _id(location_id)
    if pk is None or pk not in held:
        deny(user, origin, str(perm))
        raise NotFound
    if perm not in held[pk]:
        deny(user, origin, str(perm))
        raise Forbidden
    location = ClinicLocation.objects.filter(pk=pk).first()
    if location is None:
        deny(user, origin, str(perm))
        raise NotFound
    return location


def get_chair_for(location: ClinicLocation, chair_id: Any, *, user: Any, origin: Origin) -> Chair:
    """A chair or room of `location`; another location's chair id (or no chair's) is NotFound, audited."""
    pk = _id(chair_id)
    chair = Chair.objects.filter(pk=pk, location=location).first() if pk is not None else None
    if chair is None:
        deny(user, origin, "clinic.chair")
        raise NotFound
    return chair
