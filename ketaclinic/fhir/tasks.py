"""The task runner's FHIR work: a queued bulk export runs here (enqueued when the export is requested)."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from ketaclinic.fhir import exporter


@db_task()
def run_export(job_id: str) -> None:
    exporter.run(job_id)
