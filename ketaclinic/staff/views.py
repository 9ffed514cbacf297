"""The Staff pages: a clinic admin's accounts, roles, role requests and API tokens at their own locations.

Every page needs the staff.manage permission; every object is loaded through accounts/queries.py, so an
account, role, token or request outside the admin's locations is a 404 (and an audited denial). Writes are
the accounts actions, which check the same rules again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ketaclinic.accounts import actions, queries
from ketaclinic.accounts.models import ApiToken, ClinicLocation, User
from ketaclinic.accounts.permissions import Perm, Role, reads_phi
from ketaclinic.audit.denials import deny
from ketaclinic.errors import Forbidden, InvalidInput, NotFound
from ketaclinic.web.shortcuts import form_errors, requires, web_origin

T = TypeVar("T")
GRANT_LABELS = {"user": "Staff member", "location": "Location", "role": "Role"}


def _load(request: HttpRequest, getter: Callable[[Any, int], T], object_id: int) -> T:
    """An object of the admin's locations; anything else is a 404 that leaves an audited denial."""
    try:
        return getter(request.user, object_id)
    except NotFound:
        deny(request.user, web_origin(request), str(Perm.STAFF_MANAGE))
        raise


def _sentence(text: str) -> str:
    return f"{text[:1].upper()}{text[1:]}."


def _refused(request: HttpRequest, exc: Forbidden) -> HttpResponse:
    """A rule of the staff actions said no (another location, oneself): audited, and the reason shown."""
    deny(request.user, web_origin(request), str(Perm.STAFF_MANAGE))
    context = {"title": "Not allowed", "message": _sentence(str(exc))}
    return render(request, "web/error.html", context, status=403)


def _not_done(request: HttpRequest, exc: InvalidInput) -> None:
    messages.error(request, _sentence(" ".join(exc.errors.values())))


def _list_page(
    request: HttpRequest, *, errors: dict[str, str] | None = None, values: dict[str, str] | None = None
) -> HttpResponse:
    admin = request.user
    locations = list(queries.administered_locations(admin))
    context = {
        "staff": list(queries.staff_list(admin)),
        "locations": locations,
        "location_choices": [(location.pk, location.name) for location in locations],
        "requests": list(queries.pending_requests(admin)),
        "grantable": [
            (u.pk, f"{u.get_full_name() or u.username} ({u.username})")
            for u in queries.grantable_users(admin).order_by("last_name", "first_name", "username")
        ],
        "roles": Role.choices,
        "phi_roles": [label for code, label in Role.choices if reads_phi(code)],
        "notices": list(messages.get_messages(request)),
        "errors": errors or {},
        "values": values or {},
        "labels": GRANT_LABELS,
    }
    return render(request, "staff/list.html", context, status=422 if errors else 200)


@requires(Perm.STAFF_MANAGE)
@require_GET
def staff_list(request: HttpRequest) -> HttpResponse:
    return _list_page(request)


def _int(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


def _grant_choice(request: HttpRequest) -> tuple[User | None, ClinicLocation | None, str, dict[str, str]]:
    """The form's user, location and role, each checked against what this admin may choose."""
    errors: dict[str, str] = {}
    user_id, location_id = _int(request.POST.get("user", "")), _int(request.POST.get("location", ""))
    user = queries.grantable_users(request.user).filter(pk=user_id).first() if user_id else None
    location = (
        queries.administered_locations(request.user).filter(pk=location_id).first() if location_id else None
    )
    role = request.POST.get("role", "")
    if user is None:
        errors["user"] = "Choose a staff member from the list."
    if location is None:
        errors["location"] = "Choose one of your locations."
    if role not in Role.values:
        errors["role"] = "Choose one of the listed roles."
    return user, location, role, errors


@requires(Perm.STAFF_MANAGE)
@require_POST
def grant(request: HttpRequest) -> HttpResponse:
    """Grant a role; a role that reads PHI asked for oneself becomes a request for a second admin."""
    user, location, role, errors = _grant_choice(request)
    values = {name: request.POST.get(name, "") for name in GRANT_LABELS}
    if errors or user is None or location is None:
        return _list_page(request, errors=errors, values=values)
    origin = web_origin(request)
    try:
        if user.pk == request.user.pk and reads_phi(role):
            actions.do_request_role(location, role, actor=request.user, origin=origin)
            messages.info(
                request,
                f"Your request for {Role(role).label} at {location.name} waits for another admin of "
                f"{location.name} to approve it.",
            )
        else:
            actions.do_grant_role(user, location, role, actor=request.user, origin=origin)
            messages.success(request, f"{user.username} is now {Role(role).label} at {location.name}.")
    except InvalidInput as exc:
        return _list_page(request, errors=form_errors(exc.errors), values=values)
    except Forbidden as exc:
        return _refused(request, exc)
    return redirect("staff:list")


@requires(Perm.STAFF_MANAGE)
@require_POST
def approve(request: HttpRequest, request_id: int) -> HttpResponse:
    role_request = _load(request, queries.request_for, request_id)
    try:
        actions.do_approve_role_request(role_request, actor=request.user, origin=web_origin(request))
    except Forbidden as exc:
        return _refused(request, exc)
    except InvalidInput as exc:
        _not_done(request, exc)
        return redirect("staff:list")
    messages.success(
        request,
        f"Approved: {role_request.user.username} is now {role_request.get_role_display()} at "
        f"{role_request.location.name}.",
    )
    return redirect("staff:list")


@requires(Perm.STAFF_MANAGE)
@require_POST
def decline(request: HttpRequest, request_id: int) -> HttpResponse:
    role_request = _load(request, queries.request_for, request_id)
    try:
        actions.do_decline_role_request(role_request, actor=request.user, origin=web_origin(request))
    except Forbidden as exc:
        return _refused(request, exc)
    except InvalidInput as exc:
        _not_done(request, exc)
        return redirect("staff:list")
    mine = role_request.user_id == request.user.pk
    messages.info(request, "Your request was withdrawn." if mine else "The request was declined.")
    return redirect("staff:list")


def _token_status(token: ApiToken, now: Any) -> str:
    if token.revoked_at is not None:
        return "revoked"
    return "expired" if token.expires_at <= now else "active"


@requires(Perm.STAFF_MANAGE)
@require_GET
def member(request: HttpRequest, user_id: int) -> HttpResponse:
    user = _load(request, queries.staff_member_for, user_id)
    now = timezone.now()
    tokens = [(token, _token_status(token, now)) for token in queries.tokens_of(user)]
    context = {
        "member": user,
        "roles": list(queries.roles_here(request.user, user)),
        "elsewhere": queries.roles_elsewhere(request.user, user),
        "tokens": tokens,
        "working_tokens": sum(1 for _, status in tokens if status == "active"),
        "is_me": user.pk == request.user.pk,
        "notices": list(messages.get_messages(request)),
        "token_days": settings.KETACLINIC_API_TOKEN_DAYS,
    }
    return render(request, "staff/member.html", context)


@requires(Perm.STAFF_MANAGE)
@require_http_methods(["GET", "POST"])
def disable(request: HttpRequest, user_id: int) -> HttpResponse:
    """GET asks to confirm; POST disables the account (its sessions end, its tokens are revoked)."""
    user = _load(request, queries.staff_member_for, user_id)
    if request.method == "GET":
        context = {
            "member": user,
            "working_tokens": queries.tokens_of(user)
            .filter(revoked_at__isnull=True, expires_at__gt=timezone.now())
            .count(),
            "elsewhere": queries.roles_elsewhere(request.user, user),
            "is_me": user.pk == request.user.pk,
        }
        return render(request, "staff/disable.html", context)
    try:
        done = actions.do_disable_staff(user, actor=request.user, origin=web_origin(request))
    except Forbidden as exc:
        return _refused(request, exc)
    except InvalidInput as exc:
        _not_done(request, exc)
        return redirect("staff:member", user.pk)
    messages.success(
        request,
        f"{user.username} is disabled: {done.sessions_ended} session(s) ended, "
        f"{done.tokens_revoked} API token(s) revoked.",
    )
    return redirect("staff:member", user.pk)


@requires(Perm.STAFF_MANAGE)
@require_POST
def revoke_role(request: HttpRequest, membership_id: int) -> HttpResponse:
    membership = _load(request, queries.membership_for, membership_id)
    try:
        actions.do_revoke_role(membership, actor=request.user, origin=web_origin(request))
    except Forbidden as exc:
        return _refused(request, exc)
    messages.success(
        request,
        f"Revoked: {membership.user.username} is no longer {membership.get_role_display()} at "
        f"{membership.location.name}.",
    )
    return redirect("staff:member", membership.user_id)


@requires(Perm.STAFF_MANAGE)
@require_POST
def revoke_token(request: HttpRequest, token_id: int) -> HttpResponse:
    token = _load(request, queries.token_for, token_id)
    try:
        actions.do_revoke_api_token(token, actor=request.user, origin=web_origin(request))
    except Forbidden as exc:
        return _refused(request, exc)
    except InvalidInput as exc:
        _not_done(request, exc)
        return redirect("staff:member", token.user_id)
    messages.success(request, f"Token “{token.name}” of {token.user.username} is revoked.")
    return redirect("staff:member", token.user_id)


@requires(Perm.STAFF_MANAGE)
@require_POST
def revoke_tokens(request: HttpRequest, user_id: int) -> HttpResponse:
    user = _load(request, queries.staff_member_for, user_id)
    try:
        count = actions.do_revoke_api_tokens(user, actor=request.user, origin=web_origin(request))
    except Forbidden as exc:
        return _refused(request, exc)
    messages.success(request, f"{count} API token(s) of {user.username} revoked.")
    return redirect("staff:member", user.pk)
