"""API routes of controlled-substance ledger (mounted under /api/v1 by ketaclinic/api/app.py)."""

from ninja import Router

router = Router(tags=["Controlled-substance ledger"])
