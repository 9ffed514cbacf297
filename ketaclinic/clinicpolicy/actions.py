"""Changing a location's clinic policy, time zone, and chairs and rooms: one transaction and one audit
row each. A clinic admin of the location acts; the checks are made here as well as in pages and API."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from ketaclinic.accounts.access import can
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.models import Action
from ketaclinic.clinicpolicy.inputs import ChairIn, PolicyChangeIn
from ketaclinic.clinicpolicy.models import CHAIR_NAME_MAX, Chair, LocationPolicy, PolicyChange
from ketaclinic.clinicpolicy.values import differences, new_overrides, policy_of, time_zones
from ketaclinic.errors import Forbidden, InvalidInput, VersionConflict


def _check_admin(actor: Any, location: ClinicLocation) -> None:
    if actor is None or not can(actor, Perm.CLINIC_MANAGE, location.pk):
        raise Forbidden("only a clinic admin of the location may change its policy, time zone or chairs")


@transaction.atomic
def do_change_policy(
    location: ClinicLocation,
    data: PolicyChangeIn,
    *,
    actor: Any,
    origin: Origin = SYSTEM,
    expected_version: int,
) -> PolicyChange:
    """Set and reset policy values and/or change the time zone of `location`, with a reason.

    Refused with VersionConflict when the policy is no longer at `expected_version` (another admin changed
    it), with InvalidInput naming each refused field, and when nothing would change. New screenings and
    sessions are judged under the new policy; those already made keep the policy they were judged under.
    """
    _check_admin(actor, location)
    row, _ = LocationPolicy.objects.select_for_update().get_or_create(location=location)
    if row.version != expected_version:
        raise VersionConflict(row.version)
    location = ClinicLocation.objects.select_for_update().get(pk=location.pk)
    overrides, after = new_overrides(row.overrides, data.values, data.reset)
    changes = differences(policy_of(row.overrides), after)
    if data.time_zone is not None and data.time_zone != location.time_zone:
        if data.time_zone not in time_zones():
            raise InvalidInput({"time_zone": "choose an IANA time zone, e.g. America/New_York"})
        changes["time_zone"] = {"old": location.time_zone, "new": data.time_zone}
        location.time_zone = data.time_zone
        location.save(update_fields=["time_zone"])
    if not changes:
        raise InvalidInput({"values": "nothing to change: every value sent is the one in force"})
    now = timezone.now()
    row.overrides, row.version, row.stamp = overrides, row.version + 1, uuid.uuid4().hex
    row.updated_at, row.updated_by = now, actor
    row.save()
    change = PolicyChange.objects.create(
        location=location,
        version=row.version,
        changed_at=now,
        changed_by=actor,
        reason=data.reason,
        changes=changes,
    )
    record(
        Action.POLICY_CHANGE,
        actor=actor,
        origin=origin,
        obj=change,
        location_id=location.pk,
        changed_fields=changes,
    )
    return change


def _name_taken(location: ClinicLocation, name: str, *, other_than: int | None = None) -> bool:
    same = Chair.objects.filter(location=location, name__iexact=name)
    return same.exclude(pk=other_than).exists() if other_than else same.exists()


_TAKEN = "a chair or room of this location already has this name"


@transaction.atomic
def do_add_chair(location: ClinicLocation, data: ChairIn, *, actor: Any, origin: Origin = SYSTEM) -> Chair:
    """Add a chair or room to `location`; names are unique at the location (ignoring case)."""
    _check_admin(actor, location)
    if _name_taken(location, data.name):
        raise InvalidInput({"name": _TAKEN})
    try:
        with transaction.atomic():
            chair = Chair.objects.create(location=location, name=data.name, kind=data.kind)
    except IntegrityError as exc:  # added at the same moment by another admin
        raise InvalidInput({"name": _TAKEN}) from exc
    record(
        Action.CHAIR_ADD,
        actor=actor,
        origin=origin,
        obj=chair,
        location_id=location.pk,
        changed_fields=["name", "kind"],
    )
    return chair


def _locked(chair: Chair, expected_version: int) -> Chair:
    current = Chair.objects.select_for_update().get(pk=chair.pk)
    if current.version != expected_version:
        raise VersionConflict(current.version)
    return current


@transaction.atomic
def do_rename_chair(
    chair: Chair, name: str, *, actor: Any, origin: Origin = SYSTEM, expected_version: int
) -> Chair:
    """Give a chair or room a new name (sessions that used it show the new one)."""
    _check_admin(actor, chair.location)
    chair = _locked(chair, expected_version)
    name = name.strip()
    if not name or len(name) > CHAIR_NAME_MAX:
        raise InvalidInput({"name": f"give a name of 1 to {CHAIR_NAME_MAX} characters"})
    if name == chair.name:
        raise InvalidInput({"name": "this is already its name"})
    if _name_taken(chair.location, name, other_than=chair.pk):
        raise InvalidInput({"name": _TAKEN})
    chair.name, chair.version = name, chair.version + 1
    try:
        with transaction.atomic():
            chair.save(update_fields=["name", "version"])
    except IntegrityError as exc:
        raise InvalidInput({"name": _TAKEN}) from exc
    record(
        Action.CHAIR_RENAME,
        actor=actor,
        origin=origin,
        obj=chair,
        location_id=chair.location_id,
        changed_fields=["name"],
    )
    return chair


@transaction.atomic
def do_retire_chair(chair: Chair, *, actor: Any, origin: Origin = SYSTEM, expected_version: int) -> Chair:
    """Take a chair or room out of use. It is never deleted: the sessions that used it keep pointing at it."""
    _check_admin(actor, chair.location)
    chair = _locked(chair, expected_version)
    if not chair.active:
        raise InvalidInput({"active": "this chair or room is already retired"})
    chair.active, chair.version = False, chair.version + 1
    chair.save(update_fields=["active", "version"])
    record(
        Action.CHAIR_RETIRE,
        actor=actor,
        origin=origin,
        obj=chair,
        location_id=chair.location_id,
        changed_fields=["active"],
    )
    return chair
