"""Break-glass grants: one user's time-limited read access to one patient outside their locations.

A grant is made by `actions.do_open_emergency_access` with a written reason and never deleted; it ends when
it expires (settings.KETACLINIC_BREAK_GLASS_MINUTES) or when its user ends it, and it waits for review by
the clinic admins of the patient's location. The reason is kept here, and only here: audit rows name the
grant by its id.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q

REASON_MAX_CHARS = 1000
NOTE_MAX_CHARS = 500


class EmergencyGrant(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    # The patient's location when access was granted: its clinic admins review the grant.
    location = models.ForeignKey("accounts.ClinicLocation", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=REASON_MAX_CHARS)
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    # Set when the user closes the access before it expires.
    ended_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    review_note = models.CharField(max_length=NOTE_MAX_CHARS, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("granted_at")), name="emergency_expires_after"
            ),
            models.CheckConstraint(
                condition=Q(reviewed_at__isnull=True, reviewed_by__isnull=True)
                | Q(reviewed_at__isnull=False, reviewed_by__isnull=False),
                name="emergency_reviewed_by_someone",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="emergency_reason_given"),
        ]
        indexes = [
            # The check on every read under a grant: this user's grants for this patient.
            models.Index(fields=["user", "patient", "expires_at"], name="emergency_user_patient"),
            # The review list of a location: the grants still to review first.
            models.Index(fields=["location", "reviewed_at", "granted_at"], name="emergency_review"),
        ]

    def __str__(self) -> str:
        return f"Emergency access {self.pk}"

    @property
    def closes_at(self) -> dt.datetime:
        """When access stopped or stops: the early end, else the expiry."""
        return self.ended_at or self.expires_at
