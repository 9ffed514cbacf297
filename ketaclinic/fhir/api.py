"""The FHIR R4 endpoints at /fhir/R4: capability statement, read, search, bulk export and transaction import.

Same bearer tokens and access rules as /api/v1: the token is checked by the API's own lookup (a failure is
counted and audited the same way), patients are loaded through patients/access.py (404 outside the user's
locations, 403 inside without the permission, each denial audited) and every answer that shows a patient's
record writes a patient.read event. Answers are application/fhir+json; every error is an OperationOutcome.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any

import orjson
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from ninja.errors import Throttled

from ketaclinic.accounts.access import grants, location_ids
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import Perm
from ketaclinic.api.auth import refuse, user_for_request_token
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import Origin, origin_of
from ketaclinic.audit.denials import deny
from ketaclinic.audit.models import Action, Via
from ketaclinic.errors import Forbidden, InvalidInput, NotFound
from ketaclinic.fhir import actions as fhir_actions
from ketaclinic.fhir import capability, exporter, importer
from ketaclinic.fhir.actions import do_cancel_export, do_request_export
from ketaclinic.fhir.models import ExportJob, ExportStatus
from ketaclinic.fhir.resources import TYPES, owner_of
from ketaclinic.fhir.resources.common import Resource
from ketaclinic.patients.access import get_patient_for, visible_patients

FHIR_JSON = "application/fhir+json"
NDJSON = "application/fhir+ndjson"
DEFAULT_COUNT = 50
MAX_COUNT = 500

View = Callable[..., HttpResponseBase]


class Problem(Exception):
    """An answer other than 2xx, carried to the wrapper as an OperationOutcome."""

    def __init__(
        self, status: int, code: str, diagnostics: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(diagnostics)
        self.status, self.code, self.diagnostics, self.headers = status, code, diagnostics, headers or {}


def fhir_json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(orjson.dumps(body), status=status, content_type=FHIR_JSON)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def operation_outcome(
    status: int, code: str, diagnostics: str, headers: dict[str, str] | None = None
) -> HttpResponse:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics}],
    }
    return fhir_json(body, status, headers)


def origin(request: HttpRequest) -> Origin:
    return origin_of(request, Via.API)


def _authenticate(request: HttpRequest) -> HttpResponse | None:
    header = request.headers.get("Authorization", "")
    user = None
    if header.startswith("Bearer "):
        user = user_for_request_token(request, header[7:].strip())
    if user is None:
        try:
            refuse(request)
        except Throttled as exc:
            wait = str(int(exc.wait or 60))
            return operation_outcome(429, "throttled", "Too many failed attempts", {"Retry-After": wait})
        return operation_outcome(
            401, "login", "A valid bearer token is required", {"WWW-Authenticate": "Bearer"}
        )
    request.user = user
    return None


def fhir_endpoint(*methods: str, public: bool = False) -> Callable[[View], View]:
    """Bearer authentication (unless public), the allowed methods, and every error as an OperationOutcome."""

    def decorate(view: View) -> View:
        @csrf_exempt
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if request.method not in methods:
                return operation_outcome(
                    405,
                    "not-supported",
                    f"{request.method} is not supported here",
                    {"Allow": ", ".join(methods)},
                )
            if not public:
                refused = _authenticate(request)
                if refused is not None:
                    return refused
            try:
                return view(request, *args, **kwargs)
            except Problem as exc:
                return operation_outcome(exc.status, exc.code, exc.diagnostics, exc.headers)
            except NotFound:
                return operation_outcome(404, "not-found", "No such resource")
            except Forbidden:
                return operation_outcome(403, "forbidden", "Your role may not do this here")
            except InvalidInput as exc:
                fields = "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
                return operation_outcome(400, "invalid", fields or "Invalid request")

        return wrapped

    return decorate


def _require(request: HttpRequest, perm: Perm) -> frozenset[int]:
    held = location_ids(request.user, perm)
    if not held:
        deny(request.user, origin(request), str(perm))
        raise Forbidden
    return held


def _type(name: str) -> str:
    if name not in TYPES:
        raise Problem(404, "not-supported", f"Resource type {name} is not supported")
    return name


def _audit_read(request: HttpRequest, patients: dict[Any, int], resource_type: str) -> None:
    for patient_id, location_id in patients.items():
        record(
            Action.PATIENT_READ,
            actor=request.user,
            origin=origin(request),
            patient=_PatientRef(patient_id, location_id),
            changed_fields=[f"fhir:{resource_type}"],
        )


class _PatientRef:
    def __init__(self, pk: object, location_id: int) -> None:
        self.pk, self.location_id = pk, location_id


def base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/fhir/R4")


# --- metadata ---------------------------------------------------------------------------------------------


@fhir_endpoint("GET", public=True)
def metadata(request: HttpRequest) -> HttpResponse:
    return fhir_json(capability.statement(base_url(request)))


# --- read -------------------------------------------------------------------------------------------------


@fhir_endpoint("GET")
def read(request: HttpRequest, resource_type: str, resource_id: str) -> HttpResponse:
    _type(resource_type)
    _require(request, Perm.PATIENT_READ)
    patient_id = owner_of(resource_type, resource_id) if len(resource_id) <= 64 else None
    if patient_id is None:
        raise NotFound
    patient = get_patient_for(request.user, patient_id, origin=origin(request))
    for resource in TYPES[resource_type].resources([patient.pk], None):
        if resource["id"] == resource_id:
            _audit_read(request, {patient.pk: patient.location_id}, resource_type)
            return fhir_json(resource)
    raise NotFound


# --- search -----------------------------------------------------------------------------------------------


def _int_param(request: HttpRequest, name: str, default: int, low: int, high: int) -> int:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise InvalidInput({name: f"must be a whole number from {low} to {high}"})
    return int(raw)


def _patient_param(request: HttpRequest) -> str | None:
    raw = request.GET.get("patient") or request.GET.get("subject")
    if raw is None:
        return None
    return raw.removeprefix("Patient/")


def _code_matches(resource: Resource, tokens: list[str]) -> bool:
    codings = (resource.get("code") or {}).get("coding", [])
    for coding in codings:
        for token in tokens:
            system, bar, code = token.rpartition("|")
            if code == coding.get("code") and (not bar or system == coding.get("system")):
                return True
    return False


def _matches(resource: Resource, ids: list[str] | None, codes: list[str] | None) -> bool:
    if ids is not None and resource["id"] not in ids:
        return False
    return codes is None or _code_matches(resource, codes)


def _patient_of(resource: Resource) -> str:
    if resource["resourceType"] == "Patient":
        return str(resource["id"])
    if resource["resourceType"] == "Provenance":
        return str(resource["target"][0]["reference"]).removeprefix("Patient/")
    holder = resource.get("subject") or resource.get("patient") or {}
    return str(holder.get("reference", "")).removeprefix("Patient/")


def _search_rows(
    resource_type: str, patients: list[tuple[Any, int]], ids: list[str] | None, codes: list[str] | None
) -> Iterator[Resource]:
    for start in range(0, len(patients), exporter.CHUNK_PATIENTS):
        chunk = [pid for pid, _ in patients[start : start + exporter.CHUNK_PATIENTS]]
        for resource in TYPES[resource_type].resources(chunk, None):
            if _matches(resource, ids, codes):
                yield resource


@fhir_endpoint("GET")
def search(request: HttpRequest, resource_type: str) -> HttpResponse:
    _type(resource_type)
    readable = _require(request, Perm.PATIENT_READ)
    count = _int_param(request, "_count", DEFAULT_COUNT, 0, MAX_COUNT)
    offset = _int_param(request, "_offset", 0, 0, 10_000_000)
    ids = request.GET["_id"].split(",") if request.GET.get("_id") else None
    codes = request.GET["code"].split(",") if request.GET.get("code") else None
    wanted = _patient_param(request)
    if wanted is not None:
        # The patient's own access check: another location's patient is 404 and audited as a probe.
        patient = get_patient_for(request.user, wanted, origin=origin(request))
        patients = [(patient.pk, patient.location_id)]
    else:
        query = visible_patients(request.user).filter(entered_in_error_at__isnull=True)
        patients = list(
            query.filter(location_id__in=readable).order_by("mrn").values_list("id", "location_id")
        )
    locations = {str(pid): loc for pid, loc in patients}
    page: list[Resource] = []
    more = False
    for index, resource in enumerate(_search_rows(resource_type, patients, ids, codes)):
        if index < offset:
            continue
        if len(page) == count:
            more = True
            break
        page.append(resource)
    shown = {pid: locations[pid] for pid in {_patient_of(r) for r in page} if pid in locations}
    _audit_read(request, shown, resource_type)
    return fhir_json(_bundle(request, resource_type, page, count, offset, more))


def _bundle(
    request: HttpRequest, resource_type: str, page: list[Resource], count: int, offset: int, more: bool
) -> dict[str, Any]:
    base = base_url(request)
    params = request.GET.copy()
    params["_count"] = str(count)
    params["_offset"] = str(offset)
    links = [{"relation": "self", "url": f"{base}/{resource_type}?{params.urlencode()}"}]
    if more:
        params["_offset"] = str(offset + count)
        links.append({"relation": "next", "url": f"{base}/{resource_type}?{params.urlencode()}"})
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "link": links,
        "entry": [
            {
                "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in page
        ],
    }
    if not more:
        bundle["total"] = offset + len(page)
    return bundle


# --- bulk export ------------------------------------------------------------------------------------------


def _export_params(request: HttpRequest) -> dict[str, str]:
    """The kick-off's parameters: the query string (GET) or a Parameters resource (POST)."""
    if request.method == "GET":
        return {k: str(v) for k, v in request.GET.items()}
    try:
        body = orjson.loads(request.body or b"{}")
    except orjson.JSONDecodeError as exc:
        raise InvalidInput({"body": "is not JSON"}) from exc
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise InvalidInput({"body": "must be a Parameters resource"})
    out: dict[str, list[str]] = {}
    for part in body.get("parameter") or []:
        if not isinstance(part, dict) or not isinstance(part.get("name"), str):
            raise InvalidInput({"parameter": "each needs a name"})
        value = next((v for k, v in part.items() if k.startswith("value")), None)
        if not isinstance(value, str):
            raise InvalidInput({part["name"]: "needs a string, code or instant value"})
        out.setdefault(part["name"], []).append(value)
    return {k: ",".join(v) for k, v in out.items()}


def _types(raw: str | None) -> list[str]:
    if not raw:
        return list(TYPES)
    asked = [t.strip() for t in raw.split(",") if t.strip()]
    unknown = [t for t in asked if t not in TYPES]
    if unknown:
        raise InvalidInput({"_type": f"not supported: {', '.join(unknown)}"})
    return [t for t in TYPES if t in asked]


def _since(raw: str | None) -> dt.datetime | None:
    if not raw:
        return None
    try:
        moment = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput({"_since": "must be a FHIR instant, e.g. 2026-01-01T00:00:00Z"}) from exc
    if moment.tzinfo is None:
        raise InvalidInput({"_since": "needs a time zone"})
    return moment


def _kick_off(request: HttpRequest, location_ids_: list[int], group: ClinicLocation | None) -> HttpResponse:
    if "respond-async" not in request.headers.get("Prefer", ""):
        raise InvalidInput({"Prefer": "must be respond-async"})
    params = _export_params(request)
    if params.get("_outputFormat", "application/fhir+ndjson") not in {NDJSON, "application/ndjson", "ndjson"}:
        raise InvalidInput({"_outputFormat": "only application/fhir+ndjson is written"})
    types, since = _types(params.get("_type")), _since(params.get("_since"))
    job = do_request_export(
        actor=request.user,
        location_ids=location_ids_,
        group=group,
        types=types,
        since=since,
        request_url=request.build_absolute_uri(),
        origin=origin(request),
    )
    start_export(job)
    status_url = request.build_absolute_uri(f"/fhir/R4/$export-status/{job.pk}")
    return fhir_json(
        {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "information", "code": "informational", "diagnostics": "Export queued"}],
        },
        202,
        {"Content-Location": status_url},
    )


def start_export(job: ExportJob) -> None:
    """Hand the job to the task runner once its row is committed."""
    from ketaclinic.fhir.tasks import run_export

    fhir_actions.after_commit(lambda: run_export(str(job.pk)))


@fhir_endpoint("GET", "POST")
def patient_export(request: HttpRequest) -> HttpResponse:
    held = _require(request, Perm.FHIR_EXPORT)
    readable = location_ids(request.user, Perm.PATIENT_READ)
    return _kick_off(request, sorted(held & readable), None)


@fhir_endpoint("GET", "POST")
def group_export(request: HttpRequest, group_id: str) -> HttpResponse:
    location = ClinicLocation.objects.filter(slug=group_id[:60]).first()
    held = grants(request.user).get(location.pk) if location else None
    if location is None or held is None:
        deny(request.user, origin(request), f"fhir.group:{group_id[:60]}")
        raise NotFound
    if Perm.FHIR_EXPORT not in held or Perm.PATIENT_READ not in held:
        deny(request.user, origin(request), str(Perm.FHIR_EXPORT))
        raise Forbidden
    return _kick_off(request, [location.pk], location)


def _job_for(request: HttpRequest, job_id: str) -> ExportJob:
    """The requester's own job; anyone else's (or none) is 404 and audited."""
    job = ExportJob.objects.filter(pk=job_id).first() if _is_uuid(job_id) else None
    if job is None or job.requested_by_id != request.user.pk:
        deny(request.user, origin(request), "fhir.export_job")
        raise NotFound
    return job


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@fhir_endpoint("GET", "DELETE")
def export_status(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _job_for(request, job_id)
    if request.method == "DELETE":
        do_cancel_export(job, actor=request.user, origin=origin(request))
        return HttpResponse(status=202)
    if job.status == ExportStatus.CANCELLED:
        raise NotFound
    if job.status == ExportStatus.FAILED:
        raise Problem(500, "exception", job.error or "The export failed")
    if job.status != ExportStatus.DONE:
        return _in_progress(job)
    return fhir_json(_manifest(request, job), headers={"Expires": _expires(job)})


def _in_progress(job: ExportJob) -> HttpResponse:
    from django.conf import settings

    wait = int(settings.KETACLINIC_FHIR_EXPORT_POLL_SECONDS)
    now = timezone.now()
    polled = ExportJob.objects.filter(pk=job.pk).values_list("last_polled_at", flat=True).first()
    ExportJob.objects.filter(pk=job.pk).update(last_polled_at=now)
    if polled is not None and (now - polled).total_seconds() < wait:
        raise Problem(
            429, "throttled", "Polled too often; wait as Retry-After says", {"Retry-After": str(wait)}
        )
    progress = f"{job.percent}% ({job.patients_done} of {job.patients_total} patients)"
    response = HttpResponse(status=202)
    response["X-Progress"] = progress[:99]
    response["Retry-After"] = str(wait)
    return response


def _expires(job: ExportJob) -> str:
    from django.utils.http import http_date

    finished = job.finished_at or timezone.now()
    return http_date((finished + dt.timedelta(days=7)).timestamp())


def _manifest(request: HttpRequest, job: ExportJob) -> dict[str, Any]:
    base = request.build_absolute_uri(f"/fhir/R4/$export-file/{job.pk}/")
    return {
        "transactionTime": job.transaction_time.isoformat() if job.transaction_time else None,
        "request": job.request_url,
        "requiresAccessToken": True,
        "output": [{"type": e["type"], "url": f"{base}{e['name']}", "count": e["count"]} for e in job.output],
        "error": [],
    }


@fhir_endpoint("GET")
def export_file(request: HttpRequest, job_id: str, name: str) -> FileResponse:
    job = _job_for(request, job_id)
    path = exporter.file_path(job.pk, name) if job.status == ExportStatus.DONE else None
    if path is None or not path.exists():
        raise NotFound
    record(Action.FHIR_EXPORT, actor=request.user, origin=origin(request), obj=job, changed_fields=[name])
    return FileResponse(path.open("rb"), content_type=NDJSON)


# --- transaction import -----------------------------------------------------------------------------------


@fhir_endpoint("POST")
def transaction_bundle(request: HttpRequest) -> HttpResponse:
    _require(request, Perm.PATIENT_WRITE)
    try:
        body = orjson.loads(request.body or b"")
    except orjson.JSONDecodeError as exc:
        raise InvalidInput({"body": "is not JSON"}) from exc
    if (
        not isinstance(body, dict)
        or body.get("resourceType") != "Bundle"
        or body.get("type") != "transaction"
    ):
        raise InvalidInput({"body": "must be a Bundle of type transaction"})
    location = _import_location(request)
    report = importer.import_bundle(body, actor=request.user, location=location, origin=origin(request))
    return fhir_json(importer.response_bundle(report))


def _import_location(request: HttpRequest) -> ClinicLocation:
    """Where imported patients are registered: `?location=<slug>`, or the one location the user writes at."""
    writable = location_ids(request.user, Perm.PATIENT_WRITE)
    slug = request.GET.get("location")
    if slug:
        location = ClinicLocation.objects.filter(slug=slug[:60]).first()
        if location is None or location.pk not in grants(request.user):
            raise NotFound
        if location.pk not in writable:
            deny(request.user, origin(request), str(Perm.PATIENT_WRITE))
            raise Forbidden
        return location
    if len(writable) != 1:
        raise InvalidInput({"location": "name the location to register patients at (?location=<slug>)"})
    return ClinicLocation.objects.get(pk=next(iter(writable)))
