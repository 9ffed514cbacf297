"""Pages of clinic policy: /clinic/ (the location's time zone and policy values) and its chairs and rooms.

Every staff member of a location reads them; its clinic admins change them. Another location is a 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from pydantic import ValidationError

from ketaclinic.accounts.access import can, location_ids
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.denials import deny
from ketaclinic.clinical import rules as clinical_rules
from ketaclinic.clinicpolicy import actions, forms, queries
from ketaclinic.clinicpolicy.access import get_chair_for, get_location_for
from ketaclinic.clinicpolicy.api import policy_body
from ketaclinic.clinicpolicy.clock import local_now, location_zone
from ketaclinic.clinicpolicy.inputs import ChairIn, PolicyChangeIn
from ketaclinic.clinicpolicy.models import ChairKind
from ketaclinic.clinicpolicy.values import time_zones
from ketaclinic.errors import Forbidden, InvalidInput, NotFound, VersionConflict, errors_by_field
from ketaclinic.web import catalogue
from ketaclinic.web.shortcuts import form_errors, requires, web_origin


def _location(request: HttpRequest, location_id: int, perm: Perm) -> ClinicLocation:
    """The location for this page; a change first needs the admin permission somewhere (else 403)."""
    if perm is Perm.CLINIC_MANAGE and not can(request.user, perm):
        deny(request.user, web_origin(request), str(perm))
        raise Forbidden
    return get_location_for(request.user, location_id, perm, origin=web_origin(request))


@requires(Perm.CLINIC_READ)
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """The user's locations; with one, straight to its page."""
    ids = location_ids(request.user, Perm.CLINIC_READ)
    locations = list(ClinicLocation.objects.filter(pk__in=ids).order_by("name"))
    if len(locations) == 1:
        return redirect("clinicpolicy:policy", location_id=locations[0].pk)
    context = {"locations": locations, "manages": location_ids(request.user, Perm.CLINIC_MANAGE)}
    return render(request, "clinicpolicy/index.html", context)


def _policy_page(
    request: HttpRequest,
    location: ClinicLocation,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    typed: dict[str, Any] | None = None,
    form: dict[str, Any] | None = None,
) -> HttpResponse:
    body = policy_body(location)
    rows = forms.rows(body["fields"], typed)
    cited = {tag for row in rows for tag in row.sources}
    zone = location_zone(location)
    context = {
        "location": location,
        "version": body["version"],
        "rows": rows,
        "overridden": sum(1 for r in rows if r.overridden),
        "may_change": can(request.user, Perm.CLINIC_MANAGE, location.pk),
        "may_change_chairs": can(request.user, Perm.CLINIC_MANAGE, location.pk),
        "local_now": local_now(location),
        "zone": zone,
        "page": "policy",
        "time_zones": [(z, z) for z in time_zones()],
        "bands": forms.BANDS,
        "yes_no": forms.YES_NO,
        "conditions": forms.CONDITION_CHOICES,
        "changes": [
            (c, {k: (v["old"], v["new"]) for k, v in c.changes.items()}) for c in queries.changes_of(location)
        ],
        "sources": catalogue.sources(cited),
        "errors": errors or {},
        "values": form or {"time_zone": location.time_zone},
        "notices": list(messages.get_messages(request)),
        # The summary of a refused form names each value as the table does.
        "labels": {
            **{row.name: row.name for row in rows},
            "reason": "Reason for the change",
            "time_zone": "Time zone",
            "version": "Version",
        },
    }
    return render(request, "clinicpolicy/policy.html", context, status=status)


@requires(Perm.CLINIC_READ)
@require_http_methods(["GET", "POST"])
def policy(request: HttpRequest, location_id: int) -> HttpResponse:
    """GET: the time zone and every policy value with its default, basis, description and sources.
    POST (clinic admin): change values, reset some to their default and/or change the time zone."""
    if request.method == "GET":
        return _policy_page(request, _location(request, location_id, Perm.CLINIC_READ))
    location = _location(request, location_id, Perm.CLINIC_MANAGE)
    post = request.POST
    form = {"reason": post.get("reason", ""), "time_zone": post.get("time_zone", location.time_zone)}
    body = policy_body(location)
    values, reset, errors, typed = forms.read(post, body["values"])
    try:
        expected = int(post.get("version", ""))
    except ValueError:
        errors["version"] = "reload the page and make the change again"
        expected = -1
    data = None
    try:
        data = PolicyChangeIn(
            values=values,
            reset=reset,
            time_zone=form["time_zone"] if "time_zone" in post else None,
            reason=form["reason"],
        )
    except ValidationError as exc:
        errors.update(form_errors(errors_by_field(exc.errors())))
    if errors or data is None:
        return _policy_page(request, location, status=422, errors=errors, typed=typed, form=form)
    try:
        change = actions.do_change_policy(
            location, data, actor=request.user, origin=web_origin(request), expected_version=expected
        )
    except VersionConflict:
        errors = {
            "version": "another admin changed this policy since you opened the page; it now shows "
            "their values: make your change again"
        }
        return _policy_page(request, location, status=409, errors=errors, form={"reason": form["reason"]})
    except InvalidInput as exc:
        named = {key.removeprefix("values."): message for key, message in exc.errors.items()}
        return _policy_page(request, location, status=422, errors=form_errors(named), typed=typed, form=form)
    count = len(change.changes)
    messages.success(
        request, f"Saved: {count} value{'s' if count != 1 else ''} changed (version {change.version})."
    )
    return redirect("clinicpolicy:policy", location_id=location.pk)


def _chairs_page(
    request: HttpRequest,
    location: ClinicLocation,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
) -> HttpResponse:
    context = {
        "location": location,
        "chairs": list(queries.chairs_of(location)),
        "may_change": can(request.user, Perm.CLINIC_MANAGE, location.pk),
        "kinds": ChairKind.choices,
        "page": "chairs",
        "local_now": local_now(location),
        "errors": errors or {},
        "add_errors": {k: v for k, v in (errors or {}).items() if k in ("name", "kind")},
        "values": form or {},
        "notices": list(messages.get_messages(request)),
        "labels": {"name": "Name", "kind": "Kind"},
    }
    return render(request, "clinicpolicy/chairs.html", context, status=status)


@requires(Perm.CLINIC_READ)
@require_http_methods(["GET", "POST"])
def chairs(request: HttpRequest, location_id: int) -> HttpResponse:
    """GET: the location's chairs and rooms. POST (clinic admin): add one."""
    if request.method == "GET":
        return _chairs_page(request, _location(request, location_id, Perm.CLINIC_READ))
    location = _location(request, location_id, Perm.CLINIC_MANAGE)
    form = {"name": request.POST.get("name", ""), "kind": request.POST.get("kind", "")}
    try:
        data = ChairIn.model_validate({"name": form["name"], "kind": form["kind"] or ChairKind.CHAIR})
        chair = actions.do_add_chair(location, data, actor=request.user, origin=web_origin(request))
    except ValidationError as exc:
        return _chairs_page(
            request, location, status=422, errors=form_errors(errors_by_field(exc.errors())), form=form
        )
    except InvalidInput as exc:
        return _chairs_page(request, location, status=422, errors=form_errors(exc.errors), form=form)
    messages.success(request, f"Added {chair.get_kind_display().lower()} {chair.name}.")
    return redirect("clinicpolicy:chairs", location_id=location.pk)


@requires(Perm.CLINIC_READ)
@require_POST
def chair(request: HttpRequest, location_id: int, chair_id: int) -> HttpResponse:
    """Rename (`name`) or retire (`retire`) one chair or room (clinic admin), with its version."""
    location = _location(request, location_id, Perm.CLINIC_MANAGE)
    origin = web_origin(request)
    found = get_chair_for(location, chair_id, user=request.user, origin=origin)
    try:
        expected = int(request.POST.get("version", ""))
    except ValueError:
        expected = -1
    try:
        if "retire" in request.POST:
            done = actions.do_retire_chair(
                found, actor=request.user, origin=origin, expected_version=expected
            )
            messages.success(request, f"{done.name} is retired: kept for the sessions that used it.")
        else:
            name = request.POST.get("name", "")
            if "\x00" in name:
                raise InvalidInput({"name": "must not contain NUL characters"})
            done = actions.do_rename_chair(
                found, name, actor=request.user, origin=origin, expected_version=expected
            )
            messages.success(request, f"Renamed to {done.name}.")
    except VersionConflict:
        errors = {
            f"chair-{found.pk}": "another admin changed this chair or room since you opened the page; "
            "it now shows their change"
        }
        return _chairs_page(request, location, status=409, errors=errors)
    except InvalidInput as exc:
        errors = {f"chair-{found.pk}": " ".join(exc.errors.values()).capitalize()}
        return _chairs_page(request, location, status=422, errors=errors)
    return redirect("clinicpolicy:chairs", location_id=location.pk)


@requires(Perm.CLINIC_READ)
@require_GET
def rules(request: HttpRequest) -> HttpResponse:
    """The clinical rules KetaClinic applies, their sources, and the clinic policy values in force at one of
    the reader's locations (`?location=` its slug; by default the first by name). Another location is a
    404."""
    held = location_ids(request.user, Perm.CLINIC_READ)
    mine = list(ClinicLocation.objects.filter(pk__in=held).order_by("name"))
    asked = request.GET.get("location", "")[:60]
    location = next((loc for loc in mine if loc.slug == asked), None) if asked else mine[0]
    if location is None:
        deny(request.user, web_origin(request), str(Perm.CLINIC_READ))
        raise NotFound
    areas = catalogue.areas()
    policy = catalogue.policy_rows(queries.policy_for(location))
    context = {
        "version": clinical_rules.RULESET_VERSION,
        "note": clinical_rules.REFERENCE_NOTE,
        "areas": areas,
        "policy": policy,
        "changed": sum(1 for row in policy if row.value != row.default),
        "location": location,
        "locations": mine,
        "sources": catalogue.sources(catalogue.cited_tags(areas, policy)),
        "count": len(clinical_rules.RULES),
    }
    return render(request, "web/rules.html", context)
