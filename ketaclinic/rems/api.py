"""API routes of Spravato REMS (mounted under /api/v1 by ketaclinic/api/app.py)."""

from ninja import Router

router = Router(tags=["Spravato REMS"])
