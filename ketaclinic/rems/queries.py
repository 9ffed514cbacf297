"""Reads of Spravato REMS: the setting details a user may manage (the form and queue join as they land)."""

from __future__ import annotations

from typing import Any

from ketaclinic.accounts.access import grants, location_ids
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.denials import deny
from ketaclinic.errors import Forbidden, NotFound
from ketaclinic.rems.models import RemsSetting


def managed_locations(user: Any) -> list[ClinicLocation]:
    """The locations whose REMS setting details the user keeps, by name."""
    ids = location_ids(user, Perm.REMS_SETTING_MANAGE)
    return list(ClinicLocation.objects.filter(pk__in=ids).order_by("name"))


def settings_by_location(locations: list[ClinicLocation]) -> dict[int, RemsSetting]:
    rows = RemsSetting.objects.filter(location__in=locations)
    return {row.location_id: row for row in rows}


def setting_of(location: ClinicLocation) -> RemsSetting | None:
    return RemsSetting.objects.filter(location=location).first()


def location_to_manage(user: Any, slug: str, *, origin: Origin = SYSTEM) -> ClinicLocation:
    """The location named by `slug` whose setting the user keeps: outside the user's locations it does not
    exist (404), inside them without the permission it is 403; both are audited."""
    location = ClinicLocation.objects.filter(network_id=user.network_id, slug=slug).first()
    held = grants(user).get(location.pk) if location is not None else None
    if location is None or held is None or Perm.REMS_SETTING_MANAGE not in held:
        deny(user, origin, str(Perm.REMS_SETTING_MANAGE))
        if held is None:
            raise NotFound
        raise Forbidden
    return location
