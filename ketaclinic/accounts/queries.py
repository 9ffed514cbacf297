"""Which locations, staff, roles, tokens and role requests a clinic admin may see and manage.

A clinic admin manages the locations where they hold the clinic admin role, and the staff who hold a role
at one of them; a superuser (the server's operator) manages everything. The Staff pages, the Django admin
site and the actions all scope through these functions, so they cannot disagree.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from ketaclinic.accounts.access import location_ids
from ketaclinic.accounts.models import ApiToken, ClinicLocation, Membership, RequestStatus, RoleRequest, User
from ketaclinic.accounts.permissions import Perm
from ketaclinic.errors import NotFound


def _everything(admin: Any) -> bool:
    return bool(getattr(admin, "is_superuser", False) and admin.is_active)


def administered_location_ids(admin: Any) -> frozenset[int]:
    if _everything(admin):
        return frozenset(ClinicLocation.objects.values_list("pk", flat=True))
    return location_ids(admin, Perm.STAFF_MANAGE)


def administers(admin: Any, location_id: int) -> bool:
    return _everything(admin) or location_id in location_ids(admin, Perm.STAFF_MANAGE)


def administered_locations(admin: Any) -> QuerySet[ClinicLocation]:
    if _everything(admin):
        return ClinicLocation.objects.all()
    return ClinicLocation.objects.filter(pk__in=location_ids(admin, Perm.STAFF_MANAGE))


def staff_of(admin: Any) -> QuerySet[User]:
    """Accounts holding a role at one of the admin's locations, disabled ones included."""
    if _everything(admin):
        return User.objects.all()
    held_here = Membership.objects.filter(
        user_id=OuterRef("pk"), location_id__in=location_ids(admin, Perm.STAFF_MANAGE)
    )
    return User.objects.filter(Exists(held_here))


def grantable_users(admin: Any) -> QuerySet[User]:
    """Whom the admin may give a role: active staff of their locations, and new hires of their network
    who hold no role anywhere yet."""
    active = User.objects.filter(is_active=True)
    if _everything(admin):
        return active
    no_role = ~Exists(Membership.objects.filter(user_id=OuterRef("pk")))
    new_hires = Q(network_id=admin.network_id) & no_role if admin.network_id else Q(pk__in=[])
    return active.filter(Q(pk__in=staff_of(admin).values("pk")) | new_hires)


def manages(admin: Any, user: User) -> bool:
    """The user holds a role at one of the admin's locations: the admin sees them and may revoke tokens."""
    return _everything(admin) or staff_of(admin).filter(pk=user.pk).exists()


def manages_wholly(admin: Any, user: User) -> bool:
    """Every role the user holds is at one of the admin's locations: the admin may disable the account.

    An account that also works elsewhere is disabled by the admins of all its locations together (or the
    operator); one admin can revoke the roles at their own locations.
    """
    if _everything(admin):
        return True
    mine = location_ids(admin, Perm.STAFF_MANAGE)
    held = set(Membership.objects.filter(user=user).values_list("location_id", flat=True))
    return bool(held) and held <= mine


def staff_list(admin: Any) -> QuerySet[User]:
    """The Staff page: each account with its roles at the admin's locations (as `roles_here`) and its
    count of working API tokens, in three queries however many staff; disabled accounts last."""
    roles = (
        Membership.objects.filter(location_id__in=administered_location_ids(admin))
        .select_related("location")
        .order_by("location__name", "role")
    )
    working = Q(api_tokens__revoked_at__isnull=True, api_tokens__expires_at__gt=timezone.now())
    return (
        staff_of(admin)
        .annotate(working_tokens=Count("api_tokens", filter=working))
        .prefetch_related(Prefetch("memberships", queryset=roles, to_attr="roles_here"))
        .order_by("-is_active", "last_name", "first_name", "username")
    )


def roles_elsewhere(admin: Any, user: User) -> int:
    """How many of the user's roles are at locations the admin does not administer (never which)."""
    return (
        Membership.objects.filter(user=user).exclude(location_id__in=administered_location_ids(admin)).count()
    )


def staff_member_for(admin: Any, user_id: int) -> User:
    found = staff_of(admin).filter(pk=user_id).first()
    if found is None:
        raise NotFound
    return found


def roles_here(admin: Any, user: User) -> QuerySet[Membership]:
    """The user's roles at the admin's locations, with who granted and approved them."""
    return (
        Membership.objects.filter(user=user, location_id__in=administered_location_ids(admin))
        .select_related("location", "granted_by", "approved_by")
        .order_by("location__name", "role")
    )


def membership_for(admin: Any, membership_id: int) -> Membership:
    found = (
        Membership.objects.filter(pk=membership_id, location_id__in=administered_location_ids(admin))
        .select_related("user", "location")
        .first()
    )
    if found is None:
        raise NotFound
    return found


def tokens_of(user: User) -> QuerySet[ApiToken]:
    """Tokens not revoked first, then the most recently revoked; newest first within each."""
    return ApiToken.objects.filter(user=user).order_by(
        F("revoked_at").desc(nulls_first=True), "-created_at", "-pk"
    )


def token_for(admin: Any, token_id: int) -> ApiToken:
    found = ApiToken.objects.filter(pk=token_id, user__in=staff_of(admin)).select_related("user").first()
    if found is None:
        raise NotFound
    return found


def pending_requests(admin: Any) -> QuerySet[RoleRequest]:
    """Requests waiting at the admin's locations, their own among them (shown as waiting for another)."""
    return (
        RoleRequest.objects.filter(
            status=RequestStatus.PENDING,
            location_id__in=administered_location_ids(admin),
            user__is_active=True,
        )
        .select_related("user", "location")
        .order_by("requested_at", "pk")
    )


def request_for(admin: Any, request_id: int) -> RoleRequest:
    found = pending_requests(admin).filter(pk=request_id).first()
    if found is None:
        raise NotFound
    return found
