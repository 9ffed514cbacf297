"""API routes of the treatment floor (mounted under /api/v1 by ketaclinic/api/app.py)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from ketaclinic.accounts.access import can
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import origin_of
from ketaclinic.audit.denials import deny
from ketaclinic.audit.models import Action, Via
from ketaclinic.errors import Forbidden
from ketaclinic.floor import queries
from ketaclinic.floor.schemas import FloorOut
from ketaclinic.patients.inputs import LocationSlug
from ketaclinic.patients.schemas import ANY_OPERATION, NOT_FOUND, errors

router = Router(tags=["Treatment floor"])


def _tile(tile: queries.Tile) -> dict[str, Any]:
    s, st = tile.session, tile.status
    due = st.next_vital
    return {
        "session_id": s.id,
        "patient_id": s.patient_id,
        "patient_name": s.patient_name,
        "modality": s.modality,
        "phase": st.phase.value,
        "phase_label": st.phase_label,
        "monitored_by": s.monitored_by,
        "checked_in_at": s.checked_in_at,
        "next_vital": None
        if due is None
        else {"point": due.point, "label": due.label, "due_at": due.due_at, "overdue": due.overdue},
        "next_device_due_at": st.next_device_due_at,
        "open_alerts": st.open_alerts,
        "discharge_allowed_at": st.discharge_allowed_at,
        "discharged_at": s.discharged_at,
    }


def board_out(board: queries.Board) -> dict[str, Any]:
    """The board as the API answers it: the same rows and status as the page."""
    return {
        "location": board.location.slug,
        "day": board.day,
        "now": board.now,
        "rows": [
            {
                "chair": None
                if row.chair is None
                else {"id": row.chair.pk, "name": row.chair.name, "kind": row.chair.kind},
                "sessions": [_tile(t) for t in row.tiles],
            }
            for row in board.rows
        ],
    }


@router.get(
    "/floor",
    response={200: FloorOut, **errors(*ANY_OPERATION, NOT_FOUND)},
    summary="Today's treatment-floor board of a location",
)
def floor_board(request: HttpRequest, location: LocationSlug | None = None) -> Any:
    """Today's sessions at the location (its slug; default: your first), one row per chair or room, empty
    ones included, each session with its phase, who is monitoring, the next vital signs due, open alerts
    and when discharge is allowed."""
    origin = origin_of(request, Via.API)
    if not can(request.user, Perm.PATIENT_READ):
        deny(request.user, origin, str(Perm.PATIENT_READ))
        raise Forbidden
    where = queries.board_location(request.user, location, origin=origin)
    shown = queries.board(where)
    record(Action.PATIENT_LIST, actor=request.user, origin=origin, obj=where, location_id=where.pk)
    return board_out(shown)
