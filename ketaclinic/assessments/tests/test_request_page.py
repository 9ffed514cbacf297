"""The staff page of a patient's questionnaire requests: the list with statuses, and sending a new link."""

from __future__ import annotations

from django.core import mail

from conftest import World
from ketaclinic.accounts.actions import do_grant_role
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.assessments.models import AssessmentRequest


def test_a_nurse_sends_a_link_shown_once_and_sees_the_requests(world: World) -> None:
    patient = world.patient("north")
    client = world.client("nurse.north")
    url = f"/assessments/patients/{patient.pk}/requests/"
    response = client.post(url, {"instrument": "phq9", "channel": "email"})
    assert response.status_code == 200 and b"Requested." in response.content
    made = AssessmentRequest.objects.get(patient=patient, reason="one_off")
    assert made.channel == "email" and [m.to for m in mail.outbox] == [[patient.email]]
    assert b"/r/" in response.content  # the link, this once
    listing = client.get(url)
    assert listing.status_code == 200 and b"/r/" not in listing.content
    assert b"Requested by staff" in listing.content and b"Pending" in listing.content


def test_bad_input_names_the_field_and_saves_nothing(world: World) -> None:
    patient = world.patient("north")
    url = f"/assessments/patients/{patient.pk}/requests/"
    response = world.client("nurse.north").post(url, {"instrument": "madrs", "channel": "sms"})
    assert response.status_code == 422 and b"answered by a clinician" in response.content
    assert not AssessmentRequest.objects.filter(patient=patient).exists()


def test_a_front_desk_here_who_is_a_nurse_elsewhere_only_reads_here(world: World) -> None:
    user = world.user("frontdesk.north")
    do_grant_role(user, ClinicLocation.objects.get(slug="south"), "nurse", actor=world.user("admin.south"))
    client = world.client("frontdesk.north")
    north, south = world.patient("north"), world.patient("south")
    body = {"instrument": "gad7", "channel": "none"}
    assert client.get(f"/assessments/patients/{north.pk}/requests/").status_code == 200
    assert client.post(f"/assessments/patients/{north.pk}/requests/", body).status_code == 403
    assert client.post(f"/assessments/patients/{south.pk}/requests/", body).status_code == 200
    assert not AssessmentRequest.objects.filter(patient=north).exists()
    assert AssessmentRequest.objects.filter(patient=south).count() == 1
