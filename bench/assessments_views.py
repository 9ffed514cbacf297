"""The baseline of questionnaire submission: the same stack parsing a JSON body and inserting one row.

No authentication, access check, scoring, audit or idempotency: the ratio of ours to this is the cost of
KetaClinic's own work on a submission (bench/assessments.py).
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from ketaclinic.assessments.models import Assessment, Source
from ketaclinic.patients.models import Patient


@csrf_exempt
def bare_insert(request: HttpRequest, pk: Any) -> JsonResponse:
    body = json.loads(request.body)
    patient = Patient.objects.only("pk", "location_id").get(pk=pk)
    now = timezone.now()
    row = Assessment.objects.create(
        patient=patient,
        location_id=patient.location_id,
        instrument=body["instrument"],
        item_scores=body["answers"],
        total=sum(body["answers"]),
        taken_at=now,
        created_at=now,
        source=Source.SELF_REPORT,
    )
    return JsonResponse({"id": row.pk}, status=201)
