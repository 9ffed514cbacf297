"""The exports page: a prescriber starts a bulk export of a location's charts and watches it run. The same
export the API's Group/{location}/$export starts; the files are fetched with the requester's API token."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from ketaclinic.accounts.access import location_ids
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.denials import deny
from ketaclinic.errors import Forbidden, InvalidInput, NotFound
from ketaclinic.fhir.actions import do_cancel_export, do_request_export
from ketaclinic.fhir.api import start_export
from ketaclinic.fhir.models import ExportJob, ExportStatus
from ketaclinic.fhir.resources import TYPES
from ketaclinic.web.shortcuts import requires, web_origin


def _exportable(request: HttpRequest) -> list[ClinicLocation]:
    held = location_ids(request.user, Perm.FHIR_EXPORT) & location_ids(request.user, Perm.PATIENT_READ)
    return list(ClinicLocation.objects.filter(pk__in=held).order_by("name"))


@require_http_methods(["GET", "POST"])
@requires(Perm.FHIR_EXPORT)
def exports(request: HttpRequest) -> HttpResponse:
    locations = _exportable(request)
    errors: dict[str, str] = {}
    if request.method == "POST":
        chosen = next((loc for loc in locations if loc.slug == request.POST.get("location")), None)
        types = [t for t in request.POST.getlist("type") if t in TYPES] or list(TYPES)
        if chosen is None:
            errors["location"] = "Choose a location you may export"
        else:
            job = do_request_export(
                actor=request.user,
                location_ids=[chosen.pk],
                group=chosen,
                types=types,
                since=None,
                request_url=request.build_absolute_uri(f"/fhir/R4/Group/{chosen.slug}/$export"),
                origin=web_origin(request),
            )
            start_export(job)
            return redirect("fhir:exports")
    jobs = list(
        ExportJob.objects.filter(requested_by_id=request.user.pk)
        .select_related("group")
        .order_by("-created_at")[:20]
    )
    context = {
        "locations": locations,
        "jobs": jobs,
        "types": list(TYPES),
        "errors": errors,
        "running": any(not j.finished for j in jobs),
        "Status": ExportStatus,
    }
    return render(request, "fhir/exports.html", context, status=422 if errors else 200)


@require_POST
@requires(Perm.FHIR_EXPORT)
def cancel(request: HttpRequest, job_id: str) -> HttpResponse:
    job = ExportJob.objects.filter(pk=job_id, requested_by_id=request.user.pk).first()
    if job is None:
        deny(request.user, web_origin(request), "fhir.export_job")
        raise NotFound
    do_cancel_export(job, actor=request.user, origin=web_origin(request))
    return redirect("fhir:exports")


__all__ = ["Forbidden", "InvalidInput", "cancel", "exports"]
