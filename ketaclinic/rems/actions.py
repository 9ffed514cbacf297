"""Every write of Spravato REMS. Each do_* runs in one transaction and leaves one audit row."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.access import can
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.models import Action
from ketaclinic.errors import Forbidden, VersionConflict
from ketaclinic.rems.inputs import RemsSettingIn
from ketaclinic.rems.models import RemsSetting

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
