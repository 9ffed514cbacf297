"""Every free-text column of the clinic-policy models, planted with markup through the actions, is shown
as text on the clinic pages (the columns come from the models, as in patients/tests/test_hostile_values)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.clinicpolicy.actions import do_add_chair, do_change_policy
from ketaclinic.clinicpolicy.inputs import ChairIn, PolicyChangeIn
from ketaclinic.clinicpolicy.models import Chair, LocationPolicy, PolicyChange

if TYPE_CHECKING:
    from conftest import World

ATTACK = '"><img src=x onerror=alert(1)><script>alert("{tag}")</script>'
SYSTEM_SET = {"stamp"}  # set by the application, never typed
PLANTED = {(Chair, "name"), (PolicyChange, "reason")}


def _free_text(model: type[models.Model]) -> set[tuple[type[models.Model], str]]:
    return {
        (model, f.name)
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField) and not f.choices and f.name not in SYSTEM_SET
    }


def test_every_free_text_column_is_planted() -> None:
    assert set().union(*(_free_text(m) for m in (Chair, LocationPolicy, PolicyChange))) == PLANTED


def _attack(tag: str, length: int) -> str:
    return ATTACK.format(tag=tag)[:length]


def test_clinic_pages_show_hostile_values_as_text(world: World) -> None:
    north, admin = ClinicLocation.objects.get(slug="north"), world.user("admin.north")
    name = _attack("chair", 60)
    do_add_chair(north, ChairIn(name=name), actor=admin)
    reason = _attack("reason", 500)
    do_change_policy(
        north, PolicyChangeIn(values={"spo2_alert_below": 92}, reason=reason), actor=admin, expected_version=0
    )
    pages: dict[str, Any] = {
        "chairs": world.client("nurse.north").get(f"/clinic/{north.pk}/chairs/"),
        "admin chairs": world.client("admin.north").get(f"/clinic/{north.pk}/chairs/"),
        "policy": world.client("admin.north").get(f"/clinic/{north.pk}/"),
    }
    for label, response in pages.items():
        html = response.content.decode()
        assert response.status_code == 200, label
        assert "<script>alert(" not in html and "<img src=x" not in html, label
    assert "&lt;script&gt;alert(" in pages["policy"].content.decode()
    assert "&lt;img src=x" in pages["chairs"].content.decode()
    # What an admin typed into a refused form comes back as text too.
    refused = world.client("admin.north").post(
        f"/clinic/{north.pk}/", {"version": "1", "reason": "x", "v-spo2_alert_below": ATTACK}
    )
    assert refused.status_code == 422 and "<script>alert(" not in refused.content.decode()
