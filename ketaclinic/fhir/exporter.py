"""The bulk export itself: a job's patients, chunk by chunk, mapped and written as NDJSON (orjson), one
resource type per file, a new file whenever one would pass the size cap. Memory stays flat: rows are read
in chunks and each line is written as soon as it is made. Runs in the task runner (tasks.py).

Each patient written out leaves one audit event (fhir.export). A cancelled job stops at the next chunk and
its files are removed.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, BinaryIO

import orjson
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ketaclinic.audit.actions import record
from ketaclinic.audit.models import Action
from ketaclinic.fhir.models import ExportJob, ExportStatus
from ketaclinic.fhir.resources import TYPES
from ketaclinic.patients.models import Patient

CHUNK_PATIENTS = 500


def job_dir(job_id: object) -> Path:
    return Path(settings.KETACLINIC_FHIR_EXPORT_DIR) / str(job_id)


def file_path(job_id: Any, name: str) -> Path | None:
    """The path of a job's output file, or None for a name the job did not write (no path tricks)."""
    job = ExportJob.objects.filter(pk=job_id).values_list("output", flat=True).first()
    if not job or name not in {entry["name"] for entry in job}:
        return None
    return job_dir(job_id) / name


class Writer:
    """NDJSON files of one type: `<Type>-<n>.ndjson`, the next one opened when the cap would be passed."""

    def __init__(self, folder: Path, resource_type: str, cap: int) -> None:
        self.folder, self.type, self.cap = folder, resource_type, cap
        self.files: list[dict[str, Any]] = []
        self.handle: BinaryIO | None = None
        self.size = 0

    def write(self, line: bytes) -> None:
        if self.handle is None or (self.size + len(line) > self.cap and self.files[-1]["count"]):
            self._next()
        assert self.handle is not None
        self.handle.write(line)
        self.size += len(line)
        self.files[-1]["count"] += 1

    def _next(self) -> None:
        self.close()
        name = f"{self.type}-{len(self.files) + 1}.ndjson"
        self.handle = (self.folder / name).open("wb", buffering=1 << 20)
        self.size = 0
        self.files.append({"type": self.type, "name": name, "count": 0})

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None


def _cancelled(job: ExportJob) -> bool:
    return ExportJob.objects.filter(pk=job.pk, status=ExportStatus.CANCELLED).exists()


def run(job_id: Any) -> ExportJob:
    """Run a queued job to the end (or to its cancellation). Safe to call twice: a job runs once."""
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().get(pk=job_id)
        if job.status != ExportStatus.QUEUED:
            return job
        job.status = ExportStatus.RUNNING
        job.transaction_time = timezone.now()
        patient_ids = list(
            Patient.objects.filter(location_id__in=job.location_ids, entered_in_error_at__isnull=True)
            .order_by("mrn")
            .values_list("id", "location_id")
        )
        job.patients_total = len(patient_ids)
        job.save(update_fields=["status", "transaction_time", "patients_total"])
    folder = job_dir(job.pk)
    folder.mkdir(parents=True, exist_ok=True)
    cap = int(settings.KETACLINIC_FHIR_EXPORT_FILE_MAX_BYTES)
    writers = {name: Writer(folder, name, cap) for name in TYPES if name in job.types}
    written = 0
    try:
        for start in range(0, len(patient_ids), CHUNK_PATIENTS):
            if _cancelled(job):
                shutil.rmtree(folder, ignore_errors=True)
                return ExportJob.objects.get(pk=job.pk)
            chunk = patient_ids[start : start + CHUNK_PATIENTS]
            ids = [pid for pid, _ in chunk]
            for name, writer in writers.items():
                for resource in TYPES[name].resources(ids, job.since):
                    writer.write(orjson.dumps(resource) + b"\n")
                    written += 1
            # One commit for the chunk's events (each its own row in the chain), not one per patient.
            with transaction.atomic():
                for pid, location_id in chunk:
                    record(
                        Action.FHIR_EXPORT,
                        actor=job.requested_by,
                        obj=job,
                        patient=_Ref(pid, location_id),
                        location_id=location_id,
                    )
            ExportJob.objects.filter(pk=job.pk).update(
                patients_done=start + len(chunk), resources_written=written
            )
    except Exception:
        for writer in writers.values():
            writer.close()
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportStatus.FAILED, error="The export stopped on an error", finished_at=timezone.now()
        )
        raise
    for writer in writers.values():
        writer.close()
    output = [entry for writer in writers.values() for entry in writer.files if entry["count"]]
    for writer in writers.values():
        for entry in writer.files:
            if not entry["count"]:
                (folder / entry["name"]).unlink(missing_ok=True)
    ExportJob.objects.filter(pk=job.pk, status=ExportStatus.RUNNING).update(
        status=ExportStatus.DONE,
        output=output,
        resources_written=written,
        patients_done=len(patient_ids),
        finished_at=timezone.now(),
    )
    return ExportJob.objects.get(pk=job.pk)


class _Ref:
    """Enough of a patient for an audit row (its id and location) without loading the row."""

    def __init__(self, pk: object, location_id: int) -> None:
        self.pk, self.location_id = pk, location_id
