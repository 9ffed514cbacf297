"""The only way to load ledger rows: every getter takes the user and checks the permission per location.

Outside the user's locations a ledger event does not exist (404); at a location where the user holds no
ledger permission, or only reads where a write is asked, 403. Both leave an audit row.
"""

from __future__ import annotations

from typing import Any

from ketaclinic.accounts.access import can, grants, location_ids
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.models import Action, Outcome
from ketaclinic.errors import Forbidden, InvalidInput, NotFound
from ketaclinic.ledger.models import LedgerEvent, LossReport

# Event ids are 64-bit keys; a larger number names no row.
_LARGEST_ID = 2**63 - 1


def _deny(user: Any, origin: Origin, event: LedgerEvent | LossReport | None, location_id: int | None) -> None:
    record(
        Action.ACCESS_DENIED,
        actor=user,
        origin=origin,
        outcome=Outcome.DENIED,
        obj=event,
        location_id=location_id,
    )


def locations_for(user: Any, perm: Perm = Perm.LEDGER_READ) -> list[ClinicLocation]:
    """The locations whose ledger the user may read (or write), by name."""
    return list(ClinicLocation.objects.filter(pk__in=location_ids(user, perm)).order_by("name"))


def location_for(user: Any, slug: str, perm: Perm = Perm.LEDGER_WRITE) -> ClinicLocation:
    """The location named by `slug` where the user holds `perm`; with no slug, the only such location.

    A location the user cannot use here is refused as input (422 naming `location`), as registration does.
    """
    usable = locations_for(user, perm)
    if not slug:
        if len(usable) == 1:
            return usable[0]
        if not usable:
            raise InvalidInput({"location": "you record in no location's ledger"})
        raise InvalidInput({"location": "name the location: you record at more than one"})
    for location in usable:
        if location.slug == slug:
            return location
    raise InvalidInput({"location": f"'{slug}' is not a location whose ledger you can use"})


def get_event_for(user: Any, event_id: int, *, write: bool = False, origin: Origin = SYSTEM) -> LedgerEvent:
    """One ledger event: 404 outside the user's locations, 403 without the permission there."""
    event = (
        LedgerEvent.objects.select_related("product", "lot", "location").filter(pk=event_id).first()
        if 0 < event_id <= _LARGEST_ID
        else None
    )
    if event is None:
        _deny(user, origin, None, None)
        raise NotFound
    held = grants(user).get(event.location_id)
    needed = Perm.LEDGER_WRITE if write else Perm.LEDGER_READ
    if held is None or needed not in held:
        _deny(user, origin, event, event.location_id)
        raise NotFound if held is None else Forbidden
    return event


def get_loss_for(user: Any, report_id: int, *, write: bool = False, origin: Origin = SYSTEM) -> LossReport:
    """One theft or loss report: 404 outside the user's locations, 403 without the permission there."""
    report = (
        LossReport.objects.select_related("location").filter(pk=report_id).first()
        if 0 < report_id <= _LARGEST_ID
        else None
    )
    if report is None:
        _deny(user, origin, None, None)
        raise NotFound
    held = grants(user).get(report.location_id)
    needed = Perm.LEDGER_WRITE if write else Perm.LEDGER_READ
    if held is None or needed not in held:
        _deny(user, origin, report, report.location_id)
        raise NotFound if held is None else Forbidden
    return report


def sees_patients(user: Any, location_id: int) -> bool:
    """Whether the ledger may show this reader who was given a dose at the location.

    `ledger.read` is not a PHI permission (a clinic admin reads the ledger without opening charts), so the
    patient of an administration (id, name, address, MRN) is shown only to a reader who may also read the
    location's patients (`patient.read`); others see that a dose was given, never to whom.
    """
    return can(user, Perm.PATIENT_READ, location_id)
