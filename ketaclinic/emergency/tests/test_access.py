"""Reading under a grant: what it opens (one patient's chart, read-only, web and API), for how long, the
banner on its pages, and the audit row of every read."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from django.test import Client
from django.utils import timezone

from ketaclinic.accounts.actions import do_grant_role, do_revoke_role
from ketaclinic.accounts.models import ClinicLocation, Membership
from ketaclinic.audit.models import Action, AuditEvent, Outcome
from ketaclinic.emergency.actions import do_end_emergency_access
from ketaclinic.emergency.models import EmergencyGrant
from ketaclinic.emergency.tests.support import REASON, elsewhere, open_access
from ketaclinic.patients import actions, inputs
from ketaclinic.patients.sections import SECTIONS

if TYPE_CHECKING:
    from conftest import World

BANNER = 'class="emergency-banner"'


def _later(monkeypatch: pytest.MonkeyPatch, minutes: float) -> None:
    """Move the clock forward: every timezone.now() after this is `minutes` later."""
    moved = timezone.now() + dt.timedelta(minutes=minutes)
    monkeypatch.setattr(timezone, "now", lambda: moved)


def test_the_chart_under_a_grant_is_read_only_with_a_banner_and_audited(world: World) -> None:
    patient = world.patient("north")
    grant = open_access(world, "nurse.south", patient)
    response = world.client("nurse.south").get(f"/patients/{patient.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    banner = page[page.index(BANNER) : page.index("<main")]
    assert "Emergency access" in banner and "read-only" in banner
    assert REASON.replace(";", ";") in banner.replace("&#39;", "'")
    assert grant.expires_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC") in banner
    assert "North Clinic" in banner and f"/emergency/{grant.pk}/end/" in banner
    assert f"/patients/{patient.pk}/edit/" not in page  # no writing forms on the chart
    read = AuditEvent.objects.get(action=Action.EMERGENCY_READ)
    assert (read.object_type, read.object_id) == ("EmergencyGrant", str(grant.pk))
    assert (read.actor_id, read.patient_id, read.location_id, read.via) == (
        grant.user_id,
        patient.pk,
        patient.location_id,
        "web",
    )
    chart_read = AuditEvent.objects.get(action=Action.PATIENT_READ, patient=patient, actor=grant.user)
    assert chart_read.request_id == read.request_id  # the two rows of one request


def test_every_read_under_the_grant_is_marked(world: World) -> None:
    patient = world.patient("north")
    open_access(world, "nurse.south", patient)
    client = world.client("nurse.south")
    for _ in range(3):
        assert client.get(f"/patients/{patient.pk}/").status_code == 200
    assert AuditEvent.objects.filter(action=Action.EMERGENCY_READ).count() == 3


def test_every_panel_the_chart_loads_opens_under_the_grant(world: World) -> None:
    """The chart loads its panels after it (hx-get); each answers the clinician the grant lets read it, and
    each read is marked as under the grant."""
    patient = world.patient("north")
    open_access(world, "nurse.south", patient)
    client = world.client("nurse.south")
    chart = client.get(f"/patients/{patient.pk}/").content.decode()
    panels = re.findall(r'hx-get="([^"]+)" hx-trigger="load"', chart)
    assert f"/therapy/patients/{patient.pk}/panel/" in panels, panels
    before = AuditEvent.objects.filter(action=Action.EMERGENCY_READ).count()
    for url in panels:
        assert client.get(url).status_code == 200, url
    assert AuditEvent.objects.filter(action=Action.EMERGENCY_READ).count() == before + len(panels)


def test_without_a_grant_the_patient_stays_invisible(world: World) -> None:
    patient = world.patient("north")
    denials = AuditEvent.objects.filter(outcome=Outcome.DENIED).count()
    response = world.client("nurse.south").get(f"/patients/{patient.pk}/")
    assert response.status_code == 404 and patient.family_name.encode() not in response.content
    assert AuditEvent.objects.filter(outcome=Outcome.DENIED).count() == denials + 1
    assert not AuditEvent.objects.filter(action=Action.EMERGENCY_READ).exists()


def test_a_grant_opens_one_patient_for_one_user(world: World) -> None:
    patient, neighbour = world.patient("north", 0), world.patient("north", 1)
    open_access(world, "nurse.south", patient)
    assert world.client("nurse.south").get(f"/patients/{neighbour.pk}/").status_code == 404
    assert world.client("prescriber.south").get(f"/patients/{patient.pk}/").status_code == 404
    # The grant is not a listing: the patient stays out of the list and search.
    listing = world.client("nurse.south").post("/patients/", {"q": patient.family_name})
    assert patient.mrn not in listing.content.decode()


def test_access_stops_at_once_when_the_grant_expires(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    patient = world.patient("north")
    open_access(world, "nurse.south", patient)
    client = world.client("nurse.south")
    _later(monkeypatch, 59)
    assert client.get(f"/patients/{patient.pk}/").status_code == 200
    _later(monkeypatch, 60.1)
    denials = AuditEvent.objects.filter(outcome=Outcome.DENIED).count()
    response = client.get(f"/patients/{patient.pk}/")
    assert response.status_code == 404 and patient.family_name.encode() not in response.content
    assert AuditEvent.objects.filter(outcome=Outcome.DENIED).count() == denials + 1
    assert world.api("nurse.south").get(f"/api/v1/patients/{patient.pk}").status_code == 404


def test_ending_the_access_early_stops_it(world: World) -> None:
    patient = world.patient("north")
    grant = open_access(world, "nurse.south", patient)
    client = world.client("nurse.south")
    response = client.post(f"/emergency/{grant.pk}/end/")
    assert response.status_code == 302
    assert client.get(f"/patients/{patient.pk}/").status_code == 404
    grant.refresh_from_db()
    assert grant.ended_at is not None
    ended = AuditEvent.objects.get(action=Action.EMERGENCY_END)
    assert (ended.object_id, ended.patient_id) == (str(grant.pk), patient.pk)
    do_end_emergency_access(grant, actor=grant.user)  # ending it again changes nothing
    assert AuditEvent.objects.filter(action=Action.EMERGENCY_END).count() == 1


def test_no_one_ends_another_clinicians_access(world: World) -> None:
    patient = world.patient("north")
    grant = open_access(world, "nurse.south", patient)
    denials = AuditEvent.objects.filter(outcome=Outcome.DENIED).count()
    assert world.client("prescriber.south").post(f"/emergency/{grant.pk}/end/").status_code == 404
    assert world.client("frontdesk.south").post(f"/emergency/{grant.pk}/end/").status_code == 403
    assert Client().post(f"/emergency/{grant.pk}/end/").status_code == 302
    assert world.client("nurse.south").get(f"/emergency/{grant.pk}/end/").status_code == 405
    assert AuditEvent.objects.filter(outcome=Outcome.DENIED).count() == denials + 2
    grant.refresh_from_db()
    assert grant.ended_at is None


def test_losing_the_clinical_role_ends_the_access(world: World) -> None:
    patient = world.patient("north")
    open_access(world, "nurse.south", patient)
    user = world.user("nurse.south")
    south = ClinicLocation.objects.get(slug="south")
    do_grant_role(user, south, "therapist", actor=world.user("admin.south"))  # still a reader at south
    do_revoke_role(Membership.objects.get(user=user, role="nurse"), actor=world.user("admin.south"))
    assert world.client("nurse.south").get(f"/patients/{patient.pk}/").status_code == 404


def test_a_grant_never_crosses_clinic_networks(world: World) -> None:
    """A grant row naming a user of another network (the action never makes one) opens nothing."""
    nurse, _ = elsewhere()
    patient = world.patient("north")
    now = timezone.now()
    EmergencyGrant.objects.create(
        user=nurse,
        patient=patient,
        location=patient.location,
        reason=REASON,
        granted_at=now,
        expires_at=now + dt.timedelta(hours=1),
    )
    client = Client()
    client.force_login(nurse)
    assert client.get(f"/patients/{patient.pk}/").status_code == 404


WRITES = [
    ("get", "/patients/{pid}/edit/", None),
    ("post", "/patients/{pid}/edit/", {"given_name": "Changed"}),
    ("post", "/patients/{pid}/conditions/", {"code": "hypertension"}),
    ("post", "/patients/{pid}/measurements/", {"weight_kg": "70"}),
    ("get", "/patients/{pid}/forms/allergies/", None),
    ("post", "/patients/{pid}/entered-in-error/", {"reason": "registered twice"}),
]
API_WRITES = [
    ("patch", "/api/v1/patients/{pid}", {"phone": "555-0000"}),
    ("post", "/api/v1/patients/{pid}/conditions", {"code": "hypertension"}),
    ("post", "/api/v1/patients/{pid}/measurements", {"height_cm": "170"}),
    ("post", "/api/v1/patients/{pid}/entered-in-error", {"reason": "registered twice"}),
]


@pytest.mark.parametrize(("method", "url", "body"), WRITES)
def test_a_grant_never_allows_a_write_on_a_page(
    world: World, method: str, url: str, body: dict[str, str] | None
) -> None:
    patient = world.patient("north")
    open_access(world, "nurse.south", patient)
    denials = AuditEvent.objects.filter(outcome=Outcome.DENIED).count()
    response = getattr(world.client("nurse.south"), method)(url.format(pid=patient.pk), body or {})
    assert response.status_code == 404
    assert patient.family_name.encode() not in response.content
    assert AuditEvent.objects.filter(outcome=Outcome.DENIED).count() == denials + 1
    fresh = type(patient).objects.get(pk=patient.pk)
    assert fresh.version == patient.version and fresh.entered_in_error_at is None
    assert not fresh.conditions.filter(code="hypertension").exists()


@pytest.mark.parametrize(("method", "url", "body"), API_WRITES)
def test_a_grant_never_allows_a_write_through_the_api(
    world: World, method: str, url: str, body: dict[str, str]
) -> None:
    patient = world.patient("north")
    open_access(world, "nurse.south", patient)
    response = getattr(world.api("nurse.south"), method)(
        url.format(pid=patient.pk),
        data=json.dumps(body),
        content_type="application/json",
        headers={"If-Match": f'"{patient.version}"'},
    )
    assert response.status_code == 404 and response["Content-Type"].startswith("application/json")
    fresh = type(patient).objects.get(pk=patient.pk)
    assert fresh.version == patient.version and not fresh.conditions.filter(code="hypertension").exists()


def _entries(patient: object) -> dict[str, int]:
    from ketaclinic.patients.models import AllergyCategory, Patient, Substance, UseStatus

    assert isinstance(patient, Patient)
    author = patient.created_by
    made: dict[str, actions.HistoryInput] = {
        "conditions": inputs.ConditionIn(code="hypertension"),
        "medications": inputs.MedicationIn(drug="lamotrigine"),
        "allergies": inputs.AllergyIn(substance="Latex", category=AllergyCategory.ENVIRONMENT),
        "substance_use": inputs.SubstanceUseIn(substance=Substance.TOBACCO, use_status=UseStatus.PAST),
    }
    ids = {key: actions.do_add_history_entry(patient, data, actor=author).pk for key, data in made.items()}
    ids["measurements"] = actions.do_record_measurement(
        patient, inputs.MeasurementIn(weight_kg=Decimal(70)), actor=author
    ).pk
    return ids


def test_the_api_read_routes_answer_under_the_grant_and_only_then(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient = world.patient("north")
    ids = _entries(patient)
    urls = [f"/api/v1/patients/{patient.pk}"]
    urls += [f"/api/v1/patients/{patient.pk}/{key}" for key in (*SECTIONS, "measurements")]
    urls += [f"/api/v1/patients/{patient.pk}/{key}/{entry}" for key, entry in ids.items()]
    api = world.api("nurse.south")
    assert all(api.get(url).status_code == 404 for url in urls)
    open_access(world, "nurse.south", patient)
    marks = AuditEvent.objects.filter(action=Action.EMERGENCY_READ).count()
    for url in urls:
        response = api.get(url)
        assert response.status_code == 200, (url, response.content[:200])
    assert AuditEvent.objects.filter(action=Action.EMERGENCY_READ, via="api").count() == marks + len(urls)
    listed = api.get("/api/v1/patients").json()
    assert str(patient.pk) not in {item["id"] for item in listed["items"]}
    _later(monkeypatch, 61)
    assert all(api.get(url).status_code == 404 for url in urls)


def test_the_banner_is_only_on_pages_read_under_a_grant(world: World) -> None:
    patient = world.patient("north")
    open_access(world, "nurse.south", patient)
    south = world.client("nurse.south")
    assert BANNER not in south.get("/patients/").content.decode()
    assert BANNER not in south.get(f"/patients/{world.patient('south').pk}/").content.decode()
    assert BANNER not in world.client("nurse.north").get(f"/patients/{patient.pk}/").content.decode()


def test_a_clinician_who_reads_here_needs_no_grant_and_gets_no_banner(world: World) -> None:
    """A grant is only consulted where the user's own roles do not let them read."""
    patient = world.patient("north")
    user = world.user("nurse.south")
    do_grant_role(user, patient.location, "therapist", actor=world.user("admin.north"))
    page = world.client("nurse.south").get(f"/patients/{patient.pk}/").content.decode()
    assert BANNER not in page
    assert not AuditEvent.objects.filter(action=Action.EMERGENCY_READ).exists()


def test_an_admin_here_who_is_a_nurse_elsewhere_may_break_the_glass_here(world: World) -> None:
    """A role at the location that does not read charts (clinic admin) does not stop an emergency read."""
    patient = world.patient("north")
    admin = world.user("admin.north")
    do_grant_role(admin, ClinicLocation.objects.get(slug="south"), "nurse", actor=world.user("admin.south"))
    client = world.client("admin.north")
    assert client.get(f"/patients/{patient.pk}/").status_code == 403
    assert (
        client.post("/emergency/", {"mrn": patient.mrn, "reason": REASON, "confirm": "on"}).status_code == 302
    )
    assert client.get(f"/patients/{patient.pk}/").status_code == 200
