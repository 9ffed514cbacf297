"""The treatment-floor board: today's sessions at a location per chair or room, refreshed in place.

The page polls its board fragment (HTMX); a small static script ticks the countdowns between polls. Each
render of the board shows patients' names, so it writes one patient-list event for the location.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.models import Action
from ketaclinic.clinicpolicy.clock import location_zone
from ketaclinic.floor import queries
from ketaclinic.floor.status import Phase
from ketaclinic.web.shortcuts import requires, web_origin

# Seconds between refreshes of the board.
POLL_SECONDS = 10
# The badge colour of each phase: what needs a nurse stands out.
PHASE_CLASS = {
    Phase.SCHEDULED: "muted",
    Phase.CHECKED_IN: "",
    Phase.PRE_DOSE: "",
    Phase.DOSING: "warn",
    Phase.MONITORING: "",
    Phase.READY: "ok",
    Phase.DISCHARGED: "muted",
    Phase.DEFERRED: "muted",
    Phase.CANCELLED: "muted",
}

# Sessions of areas above this one that use a chair or room today, listed under the board (ketaclinic/therapy
# registers its therapy sessions when its app starts). A provider gets the location and its day and returns
# dicts with `starts_at` (aware), `minutes`, `chair` (its name), `family_name`, `given_name`, `what`, `link`.
BoardListing = Callable[[ClinicLocation, dt.date], list[dict[str, Any]]]
_board_listings: list[BoardListing] = []


def add_board_listing(provider: BoardListing) -> None:
    if provider not in _board_listings:
        _board_listings.append(provider)


@requires(Perm.PATIENT_READ)
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    origin = web_origin(request)
    location = queries.board_location(request.user, request.GET.get("location"), origin=origin)
    shown = queries.board(location)
    record(Action.PATIENT_LIST, actor=request.user, origin=origin, obj=location, location_id=location.pk)
    context = {
        "board": shown,
        "locations": queries.board_locations(request.user),
        "phase_class": PHASE_CLASS,
        "tz": location_zone(location),
        "tz_name": location.time_zone,
        "poll_seconds": POLL_SECONDS,
        "listings": sorted(
            (item for provider in _board_listings for item in provider(location, shown.day)),
            key=lambda item: (item["starts_at"], item["chair"]),
        ),
    }
    fragment = request.headers.get("HX-Request") == "true"
    return render(request, "floor/_board.html" if fragment else "floor/board.html", context)
