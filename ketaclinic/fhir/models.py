"""Bulk export jobs. Tables and constraints only; writes go through actions.py and the exporter.

A job remembers who asked, which locations' patients it covers (a Group export one, a Patient export every
location where the requester may export), the types and `_since` asked for, its progress, and the files it
wrote (one resource type per file, split at the size cap). The files live in the data folder, never in a
URL anyone else can open: only the requester's bearer token downloads them.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Complete"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class ExportJob(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The Group exported (a location), or empty for Patient/$export (every location in location_ids).
    group = models.ForeignKey(
        "accounts.ClinicLocation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    location_ids = models.JSONField(default=list)
    # The request as the client sent it (the manifest's `request`): path and query, no PHI.
    request_url = models.CharField(max_length=500)
    types = models.JSONField(default=list)
    since = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    patients_total = models.PositiveIntegerField(default=0)
    patients_done = models.PositiveIntegerField(default=0)
    resources_written = models.PositiveBigIntegerField(default=0)
    # [{"type": ..., "name": file name, "count": lines}]
    output = models.JSONField(default=list)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    transaction_time = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["requested_by", "-created_at"], name="fhir_export_by_user")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in ExportStatus]),
                name="fhir_export_status_known",
            ),
            models.CheckConstraint(
                condition=models.Q(patients_done__lte=models.F("patients_total")),
                name="fhir_export_progress_bounded",
            ),
        ]

    def __str__(self) -> str:
        return f"FHIR export {self.pk}"

    @property
    def finished(self) -> bool:
        return self.status in {ExportStatus.DONE, ExportStatus.FAILED, ExportStatus.CANCELLED}

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        return int(100 * self.patients_done / self.patients_total) if self.patients_total else 0
