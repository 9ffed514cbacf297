"""Notes an area above scheduling adds to a booking's answer, without scheduling importing it: the area
registers a function at start-up (its AppConfig.ready), called with the booked treatment session. Billing
registers its prior-authorisation check: a session beyond the sessions a payer approved is flagged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ketaclinic.treatment.models import TreatmentSession

Note = Callable[[TreatmentSession], dict[str, Any] | None]
_NOTES: list[Note] = []


def register(note: Note) -> Note:
    if note not in _NOTES:
        _NOTES.append(note)
    return note


def notes_for(session: TreatmentSession | None) -> list[dict[str, Any]]:
    """What the registered areas say about booking this session (nothing for a visit without one)."""
    if session is None:
        return []
    return [said for note in _NOTES if (said := note(session)) is not None]
