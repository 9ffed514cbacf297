"""The demo's at-home program, loaded on the test network: four weeks of doses and check-ins, a released
hold, and the last check-in missing, which holds the next dose; its own portal login."""

from __future__ import annotations

from django.utils import timezone

from conftest import World
from ketaclinic.homecare import demo, queries
from ketaclinic.portal.tests.helpers import signed_in


def test_demo_home_program_is_held_by_its_missed_checkin(world: World) -> None:
    program = demo.load(world.network("prescriber.north"), timezone.localdate())
    assert program is not None and program.location.slug == "north"
    assert program.doses.count() == len(demo.DOSE_DAYS)
    assert program.releases.count() == 1
    found = queries.hold_of(program)
    assert found.held and found.checkin_missing
    assert demo.EMAIL in demo.login()
    from ketaclinic.portal.models import PatientAccount

    account = PatientAccount.objects.get(email_key=demo.EMAIL)
    page = signed_in(account, demo.PASSWORD).get("/portal/home-dose/")
    assert b"Your next dose is on hold" in page.content
