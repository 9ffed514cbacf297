"""Every write of Spravato REMS. Each do_* runs in one transaction and leaves one audit row."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.access import can
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.models import Action
from ketaclinic.clinicpolicy.clock import day_bounds
from ketaclinic.errors import Forbidden, InvalidInput, Refused, VersionConflict
from ketaclinic.rems.inputs import RemsSettingIn, SubmissionIn
from ketaclinic.rems.models import RemsSetting, RemsSubmission
from ketaclinic.treatment.models import TreatmentSession

# A submission time a minute ahead of the server's clock is a clock difference, not the future.
CLOCK_SKEW = dt.timedelta(minutes=1)
SETTING_FIELDS = tuple(name for name in RemsSettingIn.model_fields if name not in {"location", "version"})


@transaction.atomic
def do_save_rems_setting(
    location: ClinicLocation, data: RemsSettingIn, *, actor: Any, origin: Origin = SYSTEM
) -> RemsSetting:
    """Create or change the location's certified-setting details; `data.version` must be the one read."""
    if not can(actor, Perm.REMS_SETTING_MANAGE, location.pk):
        raise Forbidden("you do not manage the REMS setting of this location")
    now = timezone.now()
    setting = RemsSetting.objects.select_for_update().filter(location=location).first()
    current = setting.version if setting is not None else 0
    if data.version != current:
        raise VersionConflict(current)
    values = {name: getattr(data, name) for name in SETTING_FIELDS}
    if setting is None:
        setting = RemsSetting.objects.create(
            location=location,
            created_at=now,
            created_by=actor,
            updated_at=now,
            updated_by=actor,
            **values,
        )
        changed = list(SETTING_FIELDS)
    else:
        changed = [name for name, value in values.items() if getattr(setting, name) != value]
        for name, value in values.items():
            setattr(setting, name, value)
        setting.version += 1
        setting.updated_at, setting.updated_by = now, actor
        setting.save()
    record(
        Action.REMS_SETTING_SAVE,
        actor=actor,
        origin=origin,
        obj=setting,
        location_id=location.pk,
        changed_fields=changed,
    )
    return setting


@transaction.atomic
def do_record_submission(
    session: TreatmentSession, data: SubmissionIn, *, actor: Any, origin: Origin = SYSTEM
) -> RemsSubmission:
    """Record that the session's Patient Monitoring Form was submitted: once per session (a second is
    Refused, 409), at a time after the session's day began and not in the future."""
    if not can(actor, Perm.REMS_SUBMIT, session.location_id):
        raise Forbidden("you may not record REMS submissions at this location")
    TreatmentSession.objects.select_for_update().filter(pk=session.pk).first()
    now = timezone.now()
    if data.submitted_at > now + CLOCK_SKEW:
        raise InvalidInput({"submitted_at": "cannot be in the future"})
    day_start, _ = day_bounds(session.location, session.date)
    if data.submitted_at < day_start:
        raise InvalidInput({"submitted_at": "cannot be before the session's day"})
    if RemsSubmission.objects.filter(session=session).exists():
        raise Refused(
            "The form of this session is already recorded as submitted",
            ["A session's form is submitted once; its submission is kept as recorded."],
        )
    submission = RemsSubmission.objects.create(
        session=session,
        submitted_at=data.submitted_at,
        confirmation_number=data.confirmation_number,
        recorded_at=now,
        recorded_by=actor,
    )
    record(
        Action.REMS_SUBMISSION,
        actor=actor,
        origin=origin,
        obj=submission,
        patient=session.patient,
        changed_fields=["submitted_at", "confirmation_number"],
    )
    return submission
