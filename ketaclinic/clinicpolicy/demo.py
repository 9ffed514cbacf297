"""The demo clinic's chairs and rooms: north 6 chairs and 2 rooms, south 4 chairs and 1 room."""

from __future__ import annotations

from collections.abc import Iterable

from ketaclinic.accounts.models import ClinicLocation, User
from ketaclinic.clinicpolicy.actions import do_add_chair
from ketaclinic.clinicpolicy.inputs import ChairIn
from ketaclinic.clinicpolicy.models import ChairKind

LAYOUT = {"north": (6, 2), "south": (4, 1)}


def load(locations: Iterable[ClinicLocation]) -> None:
    """Chairs and rooms for each demo location, added by its clinic admin (`admin.<slug>`)."""
    for location in locations:
        chairs, rooms = LAYOUT.get(location.slug, (0, 0))
        admin = User.objects.get(username=f"admin.{location.slug}")
        for number in range(1, chairs + 1):
            do_add_chair(location, ChairIn(name=f"Chair {number}"), actor=admin)
        for number in range(1, rooms + 1):
            do_add_chair(location, ChairIn(name=f"Room {chr(64 + number)}", kind=ChairKind.ROOM), actor=admin)
