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
    # An IANA zone name ("America/New_York"): a session's day, "today", the floor board and the REMS form's
    # seven days count in it (ketaclinic/clinicpolicy/clock.py).
    time_zone = models.CharField(max_length=64, default="UTC")

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
    """A role a user holds at one location. Roles add up: a medical director may be admin and prescriber.

    `granted_by` is the admin who granted it (empty when set up from the command line or the demo);
    `approved_by` the second admin who approved an admin's request for a role that reads PHI.
    """

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="memberships")
    location = models.ForeignKey(ClinicLocation, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    granted_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    approved_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "location", "role"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role} @ {self.location}"


class RequestStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a second admin"
    APPROVED = "approved", "Approved"
    DECLINED = "declined", "Declined"


class RoleRequest(models.Model):
    """A clinic admin asking for a role that reads PHI for themselves: another admin of the location decides.

    The requester is the user who would hold the role; nobody grants themselves access to charts alone.
    """

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="role_requests")
    location = models.ForeignKey(ClinicLocation, on_delete=models.PROTECT, related_name="role_requests")
    role = models.CharField(max_length=20, choices=Role.choices)
    status = models.CharField(max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "location", "role"],
                condition=models.Q(status="pending"),
                name="role_request_one_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} asks {self.role} @ {self.location}"


TOKEN_NAME_MAX_LENGTH = 80


class ApiToken(models.Model):
    """A named bearer token for the JSON API that expires. Only a SHA-256 digest of the secret is stored."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(max_length=TOKEN_NAME_MAX_LENGTH)
    prefix = models.CharField(max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"token {self.name!r} ({self.prefix}…) for {self.user}"


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
