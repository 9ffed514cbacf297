"""The writes of the FHIR app: starting and cancelling a bulk export. (Imports write through the patients'
own actions: importer.py.)"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.models import Action
from ketaclinic.fhir.exporter import job_dir
from ketaclinic.fhir.models import ExportJob, ExportStatus


def after_commit(hook: Callable[[], object]) -> None:
    """Run `hook` once the current transaction commits (the tests, whose transaction never does, run it
    at once)."""
    transaction.on_commit(hook)


@transaction.atomic
def do_request_export(
    *,
    actor: Any,
    location_ids: list[int],
    group: ClinicLocation | None,
    types: list[str],
    since: dt.datetime | None,
    request_url: str,
    origin: Origin = SYSTEM,
) -> ExportJob:
    """Queue an export of the patients of `location_ids` (the caller has checked that the actor may export
    each)."""
    job = ExportJob.objects.create(
        requested_by=actor,
        group=group,
        location_ids=sorted(location_ids),
        request_url=request_url[:500],
        types=types,
        since=since,
        created_at=timezone.now(),
    )
    record(
        Action.FHIR_EXPORT_START,
        actor=actor,
        origin=origin,
        obj=job,
        location_id=group.pk if group else None,
        changed_fields=["types", *(["since"] if since else [])],
    )
    return job


@transaction.atomic
def do_cancel_export(job: ExportJob, *, actor: Any, origin: Origin = SYSTEM) -> ExportJob:
    """Cancel a job still running, or delete a finished job's files (Bulk Data: DELETE on the status URL)."""
    job = ExportJob.objects.select_for_update().get(pk=job.pk)
    # A running job stops at its next chunk (the exporter looks); a finished one loses its files. Either way
    # the status URL answers 404 from now on.
    job.status = ExportStatus.CANCELLED
    job.finished_at = job.finished_at or timezone.now()
    job.output = []
    job.save(update_fields=["status", "finished_at", "output"])
    after_commit(lambda: shutil.rmtree(job_dir(job.pk), ignore_errors=True))
    record(Action.FHIR_EXPORT_CANCEL, actor=actor, origin=origin, obj=job, location_id=job.group_id)
    return job
