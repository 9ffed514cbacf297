"""Pages of Spravato REMS: each location's certified-setting details (clinic admins)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods
from pydantic import ValidationError

from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import Perm
from ketaclinic.errors import InvalidInput, VersionConflict, field_errors
from ketaclinic.rems import actions, queries
from ketaclinic.rems.inputs import RemsSettingIn
from ketaclinic.rems.models import RemsSetting
from ketaclinic.web.shortcuts import form_errors, requires, web_origin

SETTING_LABELS: dict[str, str] = {
    "setting_name": "Setting name",
    "address": "Address",
    "certification_id": "Certification / enrolment ID",
    "authorised_representative": "Authorised representative",
    "hcp_name": "Monitoring HCP name",
    "hcp_phone": "Monitoring HCP phone",
    "hcp_email": "Monitoring HCP e-mail",
    "asks_sedation": "Ask about sedation",
    "asks_dissociation": "Ask about dissociation",
    "asks_respiratory_depression": "Ask about respiratory depression",
    "version": "Version",
}
CHECKBOXES = ("asks_sedation", "asks_dissociation", "asks_respiratory_depression")


@requires(Perm.REMS_SETTING_MANAGE)
@require_GET
def settings_list(request: HttpRequest) -> HttpResponse:
    locations = queries.managed_locations(request.user)
    rows = queries.settings_by_location(locations)
    context = {
        "rows": [(loc, rows.get(loc.pk)) for loc in locations],
        "labels": SETTING_LABELS,
        "notices": list(messages.get_messages(request)),
    }
    return render(request, "rems/settings.html", context)


def _values(setting: RemsSetting | None) -> dict[str, Any]:
    if setting is None:
        return {"version": 0, **dict.fromkeys(CHECKBOXES, True)}
    return {name: getattr(setting, name) for name in SETTING_LABELS}


def _parse(location: ClinicLocation, data: QueryDict) -> RemsSettingIn:
    raw: dict[str, Any] = {name: data.get(name, "") for name in SETTING_LABELS if name not in CHECKBOXES}
    raw.update({name: name in data for name in CHECKBOXES})
    version = str(raw["version"])
    raw["version"] = int(version) if version.isdigit() and len(version) < 10 else version
    try:
        return RemsSettingIn.model_validate({**raw, "location": location.slug})
    except ValidationError as exc:
        raise InvalidInput(field_errors(exc)) from exc


@requires(Perm.REMS_SETTING_MANAGE)
@require_http_methods(["GET", "POST"])
def setting_edit(request: HttpRequest, slug: str) -> HttpResponse:
    origin = web_origin(request)
    location = queries.location_to_manage(request.user, slug, origin=origin)
    setting = queries.setting_of(location)
    errors: dict[str, str] = {}
    values = _values(setting)
    status = 200
    if request.method == "POST":
        values = {name: request.POST.get(name, "") for name in SETTING_LABELS}
        values.update({name: name in request.POST for name in CHECKBOXES})
        try:
            data = _parse(location, request.POST)
            actions.do_save_rems_setting(location, data, actor=request.user, origin=origin)
        except InvalidInput as exc:
            errors, status = form_errors(exc.errors), 422
        except VersionConflict:
            errors = {"version": "Someone saved these details since you opened them; they are shown again."}
            values, status = _values(setting), 412
        else:
            messages.success(request, f"REMS setting details of {location.name} saved.")
            return redirect("rems:settings")
    context = {"location": location, "values": values, "errors": errors, "labels": SETTING_LABELS}
    return render(request, "rems/setting_edit.html", context, status=status)
