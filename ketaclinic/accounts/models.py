"""Clinic networks, their locations, staff users, their roles at each location, and API tokens."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from ketaclinic.accounts.permissions import Role


class ClinicNetwork(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)

    def __str__(self) -> str:
        return self.name


class ClinicLocation(models.Model):
    network = models.ForeignKey(ClinicNetwork, on_delete=models.PROTECT, related_name="locations")
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["network", "slug"], name="location_slug_unique")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A staff member. Users are disabled (is_active=False), never deleted, so audit rows keep resolving."""

    network = models.ForeignKey(ClinicNetwork, on_delete=models.PROTECT, null=True, related_name="staff")
    locations: models.Manager[ClinicLocation]

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class Membership(models.Model):
    """A role a user holds at one location. Roles add up: a medical director may be admin and prescriber."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="memberships")
    location = models.ForeignKey(ClinicLocation, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "location", "role"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role} @ {self.location}"


class ApiToken(models.Model):
    """A bearer token for the JSON API. Only a SHA-256 digest of the secret is stored."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="api_tokens")
    prefix = models.CharField(max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"token {self.prefix}… for {self.user}"


class AttemptCounter(models.Model):
    """Attempts counted against a limit per key and window: an account's sign-ins, an address's failures.

    Kept by accounts/throttle.py with single conditional UPDATEs, so concurrent attempts cannot count past
    the limit. The key never holds a username in clear (throttle.py).
    """

    key = models.CharField(max_length=100, unique=True)
    attempts = models.PositiveIntegerField(default=0)
    # The window's end; when the limit is reached it moves to a full window after that attempt.
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key[:20]}…: {self.attempts}"
