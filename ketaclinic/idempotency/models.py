"""The first answer to each keyed API POST, per user, kept for KETACLINIC_IDEMPOTENCY_HOURS.

A row is inserted and filled in the transaction of the request it answers, so another request only ever
sees it complete. Answers are stored whole: they may hold PHI, and live in the database like the records
they describe (never in logs); rows past the window are pruned (`store.prune`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class IdempotencyKey(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of the method, path and body: the same key with another request is refused.
    fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(db_index=True)
    status_code = models.PositiveSmallIntegerField(default=0)
    headers = models.JSONField(default=dict)
    body = models.BinaryField(default=b"")
    # The first request's id in the audit trail: its events say what the answer shows (replay.py).
    request_id = models.CharField(max_length=36, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_one_per_user_key")]

    def __str__(self) -> str:
        return f"idempotency key of user {self.user_id}"
