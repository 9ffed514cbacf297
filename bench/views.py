"""The baselines: what the same stack (server, full middleware, ORM, SQLite) does with no product logic.

None of these views authenticates, audits or renders a template; that is the point: the ratio of ours to
these is the cost of KetaClinic's own work on a request. `bare_api` is a django-ninja API of its own with
one write: a reading validated by a plain pydantic body and inserted with one ORM `create`.
"""

from __future__ import annotations

import functools
import uuid
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Model
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from ninja import NinjaAPI
from pydantic import AwareDatetime, BaseModel

from ketaclinic.accounts.models import User
from ketaclinic.patients.models import AntidepressantTrial, Medication, Patient
from ketaclinic.treatment.models import TimePoint, VitalSigns

bare_api = NinjaAPI(urls_namespace="bench", docs_url=None, openapi_url=None)


def _row(obj: Model) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def bare_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


def bare_chart(request: HttpRequest, pk: Any) -> JsonResponse:
    """A chart read in three plain ORM queries: the patient (with location), medications, trials."""
    patient = Patient.objects.select_related("location").get(pk=pk)
    body = {
        **_row(patient),
        "location": patient.location.name,
        "medications": [_row(m) for m in Medication.objects.filter(patient_id=pk)],
        "antidepressant_trials": [_row(t) for t in AntidepressantTrial.objects.filter(patient_id=pk)],
    }
    return JsonResponse(body, encoder=DjangoJSONEncoder)


class BareVitalsIn(BaseModel):
    taken_at: AwareDatetime
    systolic_mmhg: int
    diastolic_mmhg: int
    heart_rate_bpm: int
    spo2_percent: int


@functools.cache
def _author() -> int:
    return int(User.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True)[0])


@bare_api.post("/sessions/{session_id}/vitals")
def bare_vitals(request: HttpRequest, session_id: uuid.UUID, body: BareVitalsIn) -> JsonResponse:
    """The same reading into the same table, with nothing checked, audited or computed: one INSERT."""
    now, author = timezone.now(), _author()
    reading = VitalSigns.objects.create(
        session_id=session_id,
        time_point=TimePoint.ANY_TIME,
        **body.model_dump(),
        created_at=now,
        created_by_id=author,
        updated_at=now,
        updated_by_id=author,
    )
    return JsonResponse({"id": reading.pk, **body.model_dump(mode="json")}, status=201)
