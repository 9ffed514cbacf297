"""Every free-text column of the REMS records shows as text on its pages (columns found from the model)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ketaclinic.patients.tests.test_hostile_values import ATTACK, _free_text, _hostile
from ketaclinic.rems.models import RemsSetting

if TYPE_CHECKING:
    from conftest import World


def test_setting_details_are_escaped_on_the_list_and_the_form(world: World) -> None:
    setting = RemsSetting.objects.get(location__slug="north")  # the demo's, saved through the actions
    columns = _free_text(RemsSetting)
    assert {f.name for f in columns} >= {"setting_name", "address", "hcp_email"}
    RemsSetting.objects.filter(pk=setting.pk).update(**{f.name: _hostile(f, f.name) for f in columns})
    client = world.client("admin.north")
    for url in ("/rems/settings/", "/rems/settings/north/"):
        html = client.get(url).content.decode()
        assert "<script>" not in html and "<img src=x" not in html
        for field in columns:
            if field.max_length and field.max_length >= len(ATTACK.format(tag=field.name)):
                assert (
                    f"alert(&#34;{field.name}&#34;)" in html or f"alert(&quot;{field.name}&quot;)" in html
                ), (
                    url,
                    field.name,
                )


def test_the_form_page_shows_the_charts_text_and_the_submission_as_text(world: World) -> None:
    import datetime as dt

    from django.utils import timezone

    from ketaclinic.clinicpolicy.clock import local_today
    from ketaclinic.patients.models import Patient
    from ketaclinic.rems.models import RemsSubmission
    from ketaclinic.rems.tests.sessions import charted_session, plan_for
    from ketaclinic.treatment.models import AdverseEvent, Dose

    patient, nurse = world.patient("north"), world.user("nurse.north")
    day = local_today(patient.location) - dt.timedelta(days=1)
    session = charted_session(plan_for(patient, nurse), nurse, day, events=("other",))
    Patient.objects.filter(pk=patient.pk).update(family_name=ATTACK.format(tag="family")[:80])
    Dose.objects.filter(session=session).update(lot_number=ATTACK.format(tag="lot")[:40])
    AdverseEvent.objects.filter(session=session).update(description=ATTACK.format(tag="event"))
    columns = _free_text(RemsSubmission)
    assert [f.name for f in columns] == ["confirmation_number"]
    RemsSubmission.objects.create(
        session=session,
        submitted_at=timezone.now(),
        confirmation_number=_hostile(columns[0], "confirmation"),
        recorded_at=timezone.now(),
        recorded_by=nurse,
    )
    html = world.client("nurse.north").get(f"/rems/sessions/{session.pk}/").content.decode()
    assert "<script>" not in html and "<img src=x" not in html
    assert "alert(&#34;event&#34;)" in html or "alert(&quot;event&quot;)" in html
