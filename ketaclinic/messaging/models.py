"""The outbox: one row per message KetaClinic means to send, keyed so that it is sent once.

A row holds no address and no text: both are the patient's data (and a self-report message carries the
link's secret), so they are put together at the moment of sending and never stored. The key names what the
message is for (`assessment_request:42:due`, `previsit:<session id>`); a second attempt to send the same
message finds the row and sends nothing, whichever process or restart it comes from.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class MessageChannel(models.TextChoices):
    EMAIL = "email", "E-mail"
    SMS = "sms", "Text message"


class MessageStatus(models.TextChoices):
    # Claimed: the sending is under way (or its process died: retried once it is stale).
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    # The backend refused or failed; retried up to outbox.MAX_ATTEMPTS.
    FAILED = "failed", "Failed"


class Message(models.Model):
    key = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=40)
    channel = models.CharField(max_length=10, choices=MessageChannel.choices)
    status = models.CharField(max_length=10, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=1)
    location = models.ForeignKey("accounts.ClinicLocation", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    claimed_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    # The failure's class name only (an exception's text may quote the address).
    error = models.CharField(max_length=80, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "claimed_at"], name="message_retry")]
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=[c.value for c in MessageChannel]), name="message_channel_known"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in MessageStatus]), name="message_status_known"
            ),
            models.CheckConstraint(
                condition=~Q(status=MessageStatus.SENT) | Q(sent_at__isnull=False),
                name="message_sent_has_when",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} message {self.pk}"
