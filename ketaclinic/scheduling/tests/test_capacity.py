"""The capacity view for every dosing modality (issue 13: "chair and nurse use per day, and how many
induction starts can we accept in the next four weeks"), on the page and through the API. Allowed and denied
cases of both routes: the access matrix (scheduling/tests/matrix.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.clinical.scheduling import VisitKind
from ketaclinic.clinicpolicy.models import Chair
from ketaclinic.scheduling import calendars
from ketaclinic.scheduling.tests.helpers import at, book, local_day

if TYPE_CHECKING:
    from conftest import World


def test_each_modality_counts_its_own_protocols_induction() -> None:
    """Esketamine: twice weekly for four weeks (8 visits); IV ketamine: six infusions over three weeks, both
    read from their protocol files."""
    esketamine = calendars.induction_of(VisitKind.ESKETAMINE_NASAL)
    iv = calendars.induction_of(VisitKind.IV_KETAMINE)
    assert (esketamine.sessions, esketamine.weeks) == (8, 4)
    assert (iv.sessions, iv.weeks) == (6, 3)
    assert [s.offset for s in iv.steps] == [0, 3, 7, 10, 14, 17]
    # Free visits only on an IV course's ideal days: one IV course fits, no esketamine course does.
    free = [0] * 40
    for day in (0, 3, 7, 10, 14, 17):
        free[day] = 1
    assert calendars._place_course(0, free, iv) == [0, 3, 7, 10, 14, 17]
    assert calendars._place_course(0, free, esketamine) is None
    # A week's second visit moves a day when its ideal day is full, never nearer than the protocol's gap.
    free[3], free[4] = 0, 1
    assert calendars._place_course(0, free, iv) == [0, 4, 7, 10, 14, 17]
    free[4], free[1] = 0, 1
    assert calendars._place_course(0, free, iv) is None


def test_capacity_counts_only_the_modalities_the_location_has_chairs_for(
    world: World, north: ClinicLocation
) -> None:
    """A location with only rooms offers esketamine (a room suits it) and not IV (an infusion chair)."""
    first = local_day(north, 1)
    both = calendars.capacity(north, first, 7)
    assert [m.kind for m in both.modalities] == [VisitKind.ESKETAMINE_NASAL, VisitKind.IV_KETAMINE]
    Chair.objects.filter(location=north, kind="chair").update(active=False)
    rooms_only = calendars.capacity(north, first, 7)
    assert [m.kind for m in rooms_only.modalities] == [VisitKind.ESKETAMINE_NASAL]
    assert set(rooms_only.days[0].free_visits) == {"esketamine_nasal"}


def test_the_api_answers_per_day_use_and_starts_per_modality(world: World, north: ClinicLocation) -> None:
    first = local_day(north, 1)
    book(world.patient("north"), at(north, 1, 10), "iv_ketamine")
    response = world.api("nurse.north").get(f"/api/v1/schedule/capacity?start={first}&location_id={north.pk}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["location_id"] == north.pk and body["start"] == first.isoformat() and body["days"] == 28
    assert len(body["per_day"]) == 28
    day = body["per_day"][0]
    assert day["chair_booked_minutes"] == 120 and day["nurse_used_minutes"] == 120
    assert set(day["free_visits"]) == {"esketamine_nasal", "iv_ketamine"}
    by_kind = {m["kind"]: m for m in body["induction_starts"]}
    assert (by_kind["esketamine_nasal"]["sessions"], by_kind["esketamine_nasal"]["weeks"]) == (8, 4)
    assert (by_kind["iv_ketamine"]["sessions"], by_kind["iv_ketamine"]["weeks"]) == (6, 3)
    assert by_kind["iv_ketamine"]["protocol"] == "iv_twice_weekly_3w"
    found = calendars.capacity(north, first)
    for m in found.modalities:
        assert by_kind[m.kind.value]["induction_starts"] == m.induction_starts
        assert sum(d["count"] for d in by_kind[m.kind.value]["starts_by_day"]) == m.induction_starts
    assert world.patient("north").family_name.encode() not in response.content


def test_the_api_refuses_bad_input_and_other_locations(world: World, north: ClinicLocation) -> None:
    api = world.api("nurse.north")
    bad = api.get("/api/v1/schedule/capacity?start=2026-02-30")
    assert bad.status_code == 422 and "start" in bad.content.decode()
    far = api.get("/api/v1/schedule/capacity?start=9999-12-31")
    assert far.status_code == 422 and "within a year" in far.content.decode()
    south = ClinicLocation.objects.get(slug="south")
    before = AuditEvent.objects.filter(outcome=Outcome.DENIED).count()
    assert api.get(f"/api/v1/schedule/capacity?location_id={south.pk}").status_code == 404
    assert AuditEvent.objects.filter(outcome=Outcome.DENIED).count() == before + 1
    assert api.get("/api/v1/schedule/capacity").status_code == 200  # today, at the caller's location


def test_the_page_shows_both_modalities(world: World, north: ClinicLocation) -> None:
    page = world.client("frontdesk.north").get(f"/schedule/capacity/?location={north.pk}")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="cap-esketamine_nasal"' in html and 'id="cap-iv_ketamine"' in html
    assert "8 visits over 4 weeks" in html and "6 visits over 3 weeks" in html
