"""Each location's clinic-policy overrides, their history, and its chairs and rooms."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ketaclinic.accounts.models import ClinicLocation

REASON_MAX = 500
CHAIR_NAME_MAX = 60


class LocationPolicy(models.Model):
    """The values a location sets apart from the documented defaults (clinical/policy.py).

    `overrides` holds only the overridden fields, in the JSON shape of `policy_to_json`. `version` counts the
    changes (0: never changed) and is the ETag of the policy; `stamp` is new on every change, so a cached
    policy is never taken for another one with the same version (a restored database, a rolled-back test).
    """

    location = models.OneToOneField(ClinicLocation, on_delete=models.PROTECT, related_name="policy_overrides")
    overrides = models.JSONField(default=dict)
    version = models.PositiveIntegerField(default=0)
    stamp = models.CharField(max_length=32, blank=True)
    updated_at = models.DateTimeField(null=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"policy of {self.location} v{self.version}"


class PolicyChange(models.Model):
    """One change of a location's policy or time zone, kept for good: who, when, why, and each field's old
    and new value (`{"field": {"old": ..., "new": ...}}`; policy values are not PHI)."""

    location = models.ForeignKey(ClinicLocation, on_delete=models.PROTECT, related_name="policy_changes")
    version = models.PositiveIntegerField()
    changed_at = models.DateTimeField()
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(max_length=REASON_MAX)
    changes = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["location", "version"], name="policy_change_version_unique")
        ]
        ordering = ["location", "-version"]

    def __str__(self) -> str:
        return f"policy change {self.version} of {self.location}"


class ChairKind(models.TextChoices):
    CHAIR = "chair", "Chair"
    ROOM = "room", "Room"
    THERAPY_ROOM = "therapy_room", "Therapy room"


class Chair(models.Model):
    """A treatment chair or room at one location; retired ones stay for the sessions that used them."""

    location = models.ForeignKey(ClinicLocation, on_delete=models.PROTECT, related_name="chairs")
    name = models.CharField(max_length=CHAIR_NAME_MAX)
    kind = models.CharField(max_length=12, choices=ChairKind.choices, default=ChairKind.CHAIR)
    active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["location", "name"], name="chair_name_unique")]
        ordering = ["location", "name"]

    def __str__(self) -> str:
        return self.name
