"""Every portal page against every kind of visitor: the patient (allowed), another patient (404 for a
record that is not theirs, never their data), staff of every role (refused), anonymous (to the portal's
sign-in). Every answer that shows the patient's data leaves a patient.read row naming the portal account.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from ketaclinic.audit.models import Action, AuditEvent, Outcome
from ketaclinic.patients.models import Patient
from ketaclinic.portal.tests.helpers import account_for, request_for, signed_in

if TYPE_CHECKING:
    from conftest import World

ROLES = ("admin", "prescriber", "nurse", "therapist", "frontdesk")
# (name, method, url; "{request}" is a pending questionnaire of the patient the page is asked for)
PAGES = [
    ("home", "get", "/portal/"),
    ("score history", "get", "/portal/history/"),
    ("questionnaire", "get", "/portal/questionnaires/{request}/"),
    ("answer questionnaire", "post", "/portal/questionnaires/{request}/"),
]
# Pages any visitor may open: signing in and out, and an invitation link (its secret is the credential).
OPEN = {"portal:sign_in", "portal:sign_out", "portal:welcome"}


def _body(method: str) -> dict[str, str]:
    from ketaclinic.clinical.scales import INSTRUMENTS, Instrument

    return (
        {f"item-{item.key}": "1" for item in INSTRUMENTS[Instrument.PHQ9].items} if method == "post" else {}
    )


def _url(url: str, patient: Patient) -> str:
    return url.replace("{request}", str(request_for(patient).pk)) if "{request}" in url else url


@pytest.mark.parametrize(("name", "method", "url"), PAGES)
def test_the_patient_sees_their_own_page_and_it_is_audited(
    world: World, name: str, method: str, url: str
) -> None:
    patient = world.patient("north")
    account = account_for(world, patient)
    client = signed_in(account)
    last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    response = getattr(client, method)(_url(url, patient), _body(method))
    assert response.status_code == 200, (name, response.content[:300])
    assert patient.given_name.encode() in response.content or name == "answer questionnaire"
    events = AuditEvent.objects.filter(seq__gt=last)
    wanted = Action.ASSESSMENT_RECORD if method == "post" else Action.PATIENT_READ
    row = events.get(action=wanted)
    assert (row.patient_account_id, row.actor_id, row.patient_id, row.via) == (
        account.pk,
        None,
        patient.pk,
        "portal",
    )


@pytest.mark.parametrize(("name", "method", "url"), [p for p in PAGES if "{request}" in p[2]])
def test_another_patients_record_is_not_found_and_audited(
    world: World, name: str, method: str, url: str
) -> None:
    """Patient A asking for patient B's questionnaire (B's id in A's URL): 404, nothing of B, none saved."""
    mine, other = world.patient("north", 0), world.patient("north", 1)
    account_for(world, other)
    client = signed_in(account_for(world, mine))
    theirs = request_for(other)
    last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    response = getattr(client, method)(url.replace("{request}", str(theirs.pk)), _body(method))
    assert response.status_code == 404, name
    assert f"{other.given_name} {other.family_name}".encode() not in response.content
    theirs.refresh_from_db()
    assert theirs.status == "pending" and not other.assessments.exists()
    events = list(AuditEvent.objects.filter(seq__gt=last))
    assert [(e.action, e.outcome, e.patient_id) for e in events] == [
        ("access.denied", Outcome.DENIED, mine.pk)
    ]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "method", "url"), PAGES)
def test_staff_are_refused(world: World, role: str, name: str, method: str, url: str) -> None:
    """A staff sign-in opens no portal page, whatever the role (also one that reads the patient's chart)."""
    patient = world.patient("north")
    account_for(world, patient)
    denials = AuditEvent.objects.filter(outcome=Outcome.DENIED).count()
    response = getattr(world.client(f"{role}.north"), method)(_url(url, patient), _body(method))
    assert response.status_code == 403, (name, role)
    assert patient.family_name.encode() not in response.content
    assert AuditEvent.objects.filter(outcome=Outcome.DENIED).count() == denials + 1
    assert not patient.assessments.exists()


@pytest.mark.parametrize(("name", "method", "url"), PAGES)
def test_anonymous_visitors_go_to_the_portal_sign_in(world: World, name: str, method: str, url: str) -> None:
    from django.test import Client

    patient = world.patient("north")
    response = getattr(Client(), method)(_url(url, patient), _body(method))
    assert response.status_code == 302, name
    assert response["Location"].startswith("/portal/sign-in/?next=")
    assert not patient.assessments.exists()


def test_every_portal_page_is_in_the_matrix() -> None:
    """A new portal page fails here until it has its cases above (or is an open page with its own tests)."""

    def names(patterns: list[URLPattern | URLResolver]) -> Iterator[str]:
        for p in patterns:
            if isinstance(p, URLResolver):
                if p.namespace == "portal":
                    yield from (f"portal:{q.name}" for q in p.url_patterns if isinstance(q, URLPattern))
            else:
                continue

    served = set(names(get_resolver().url_patterns))
    covered = {resolve(url.replace("{request}", "1")).view_name for _, _, url in PAGES}
    assert served and served - covered - OPEN == set()
