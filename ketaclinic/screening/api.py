"""API routes of screening (mounted under /api/v1 by ketaclinic/api/app.py)."""

from ninja import Router

router = Router(tags=["Screening"])
