"""API routes of the treatment floor (mounted under /api/v1 by ketaclinic/api/app.py)."""

from ninja import Router

router = Router(tags=["Treatment floor"])
