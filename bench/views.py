"""The baselines: what the same stack (server, full middleware, ORM, SQLite) does with no product logic.

Neither view authenticates, audits or renders a template; that is the point: the ratio of ours to these
is the cost of KetaClinic's own work on a request.
"""

from __future__ import annotations

from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Model
from django.http import HttpRequest, JsonResponse

from ketaclinic.patients.models import AntidepressantTrial, Medication, Patient


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
