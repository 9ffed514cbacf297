"""Patient accounts: apart from staff, invited from the chart, a password set from a single-use link,
signed in and out under the staff sign-in's limits, every step audited."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from ketaclinic.audit.actions import verify_chain
from ketaclinic.audit.models import Action, AuditEvent, Outcome
from ketaclinic.audit.tests.test_chain import _bypass_triggers
from ketaclinic.errors import InvalidInput, NotFound
from ketaclinic.portal import auth
from ketaclinic.portal.actions import do_accept_invitation, do_invite_patient
from ketaclinic.portal.inputs import InviteIn, PasswordIn
from ketaclinic.portal.models import PatientAccount, PortalInvitation
from ketaclinic.portal.tests.helpers import PASSWORD, account_for, email_of, signed_in

if TYPE_CHECKING:
    from conftest import World

LIMIT = 5


@pytest.fixture(autouse=True)
def _limits(settings: Any) -> None:
    settings.KETACLINIC_SIGNIN_RATE_PER_IP = 1000
    settings.KETACLINIC_LOGIN_FAILURE_LIMIT = LIMIT
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def _link_secret(html: str) -> str:
    found = re.search(r"/portal/welcome/([A-Za-z0-9_-]+)/", html)
    assert found is not None
    return found.group(1)


def _after(seq: int | None) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(seq__gt=seq or 0).order_by("seq"))


def _last() -> int | None:
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()


def _set_password(client: Client, secret: str, password: str = PASSWORD, again: str | None = None) -> Any:
    return client.post(
        f"/portal/welcome/{secret}/",
        {"password": password, "password_again": password if again is None else again},
    )


def test_staff_invite_from_the_chart_shows_and_emails_a_link_without_phi(world: World) -> None:
    patient = world.patient("north")
    client = world.client("frontdesk.north")
    chart = client.get(f"/patients/{patient.pk}/")
    assert f"/portal-staff/invite/{patient.pk}/".encode() in chart.content
    last = _last()
    response = client.post(
        f"/portal-staff/invite/{patient.pk}/", {"email": "milo@example.org", "send_email": "yes"}
    )
    assert response.status_code == 200
    secret = _link_secret(response.content.decode())
    invitation = PortalInvitation.objects.get()
    assert invitation.token_hash != secret and secret not in str(invitation.__dict__)
    assert timedelta(hours=71) < invitation.expires_at - timezone.now() <= timedelta(hours=72)
    [message] = mail.outbox
    text = f"{message.subject}\n{message.body}"
    assert message.to == ["milo@example.org"] and secret in text
    for phi in (patient.given_name, patient.family_name, patient.mrn, str(patient.pk), "ketamine"):
        assert phi.lower() not in text.lower()
    link = re.search(r"http\S+", text)
    assert link is not None and str(patient.pk) not in link.group(0)
    events = _after(last)
    invite = next(e for e in events if e.action == Action.PORTAL_INVITE)
    assert (invite.actor, invite.patient_id) == (world.user("frontdesk.north"), patient.pk)
    assert any(e.action == Action.PATIENT_READ for e in events)


def test_a_therapist_may_not_invite(world: World) -> None:
    patient = world.patient("north")
    response = world.client("therapist.north").post(
        f"/portal-staff/invite/{patient.pk}/", {"email": "a@b.org"}
    )
    assert response.status_code == 403
    assert not PatientAccount.objects.exists()


@pytest.mark.parametrize(
    ("email", "field"), [("", "email"), ("not-an-address", "email"), ("x" * 300, "email")]
)
def test_a_bad_email_is_named_and_nothing_is_saved(world: World, email: str, field: str) -> None:
    patient = world.patient("north")
    response = world.client("nurse.north").post(f"/portal-staff/invite/{patient.pk}/", {"email": email})
    assert response.status_code == 422
    assert response.context["errors"].keys() == {field}
    assert not PatientAccount.objects.exists() and not PortalInvitation.objects.exists()


def test_one_email_address_signs_in_one_patient(world: World) -> None:
    first, second = world.patient("north", 0), world.patient("north", 1)
    nurse = world.user("nurse.north")
    do_invite_patient(first, InviteIn(email="Same@Example.org"), actor=nurse)
    with pytest.raises(InvalidInput) as refused:
        do_invite_patient(second, InviteIn(email="same@example.ORG"), actor=nurse)
    assert refused.value.errors.keys() == {"email"}
    assert PatientAccount.objects.count() == 1


def test_the_link_sets_a_password_once(world: World) -> None:
    patient = world.patient("north")
    _, secret = do_invite_patient(patient, InviteIn(email=email_of(patient)), actor=world.user("nurse.north"))
    client = Client()
    page = client.get(f"/portal/welcome/{secret}/")
    assert page.status_code == 200
    assert patient.given_name.encode() not in page.content  # the link reveals nothing before the password
    last = _last()
    response = _set_password(client, secret)
    assert response.status_code == 302 and response["Location"] == "/portal/sign-in/?welcome=1"
    account = PatientAccount.objects.get(patient=patient)
    assert account.password and account.password != PASSWORD and account.activated_at is not None
    [event] = _after(last)
    assert (event.action, event.patient_account_id, event.actor_id) == (
        Action.PORTAL_ACTIVATE,
        account.pk,
        None,
    )
    again = _set_password(Client(), secret, "another long passphrase")
    assert again.status_code == 404
    assert b"does not work" in again.content
    account.refresh_from_db()
    assert signed_in(account).get("/portal/").status_code == 200


def test_an_expired_replaced_or_forged_link_reveals_nothing(world: World) -> None:
    patient = world.patient("north")
    nurse = world.user("nurse.north")
    _, old = do_invite_patient(patient, InviteIn(email=email_of(patient)), actor=nurse)
    invitation, new = do_invite_patient(patient, InviteIn(email=email_of(patient)), actor=nurse)
    PortalInvitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    for secret in (old, new, "forged" + "a" * 40, "x" * 200):
        for method in ("get", "post"):
            response = getattr(Client(), method)(
                f"/portal/welcome/{secret}/", {"password": PASSWORD, "password_again": PASSWORD}
            )
            assert response.status_code == 404
            assert patient.given_name.encode() not in response.content
            assert email_of(patient).encode() not in response.content
    assert PatientAccount.objects.get(patient=patient).password == ""
    with pytest.raises(NotFound):
        do_accept_invitation(new, PasswordIn(password=PASSWORD, password_again=PASSWORD))


@pytest.mark.parametrize(
    ("password", "again", "field"),
    [
        ("short", "short", "password"),
        ("123456789012345", "123456789012345", "password"),
        (PASSWORD, "x", "password_again"),
    ],
)
def test_a_weak_or_mistyped_password_is_named_and_nothing_is_saved(
    world: World, password: str, again: str, field: str
) -> None:
    patient = world.patient("north")
    _, secret = do_invite_patient(patient, InviteIn(email=email_of(patient)), actor=world.user("nurse.north"))
    response = _set_password(Client(), secret, password, again)
    assert response.status_code == 422
    assert field in response.context["errors"]
    assert PatientAccount.objects.get(patient=patient).password == ""
    assert PortalInvitation.objects.get().used_at is None


def test_sign_in_and_out_are_audited_under_the_portal_account(world: World) -> None:
    account = account_for(world, world.patient("north"))
    last = _last()
    client = signed_in(account)
    assert client.get("/portal/").status_code == 200
    response = client.post("/portal/sign-out/")
    assert response.status_code == 302 and response["Location"] == "/portal/sign-in/"
    assert client.get("/portal/").status_code == 302
    actions = [(e.action, e.patient_account_id, e.actor_id) for e in _after(last)]
    assert (Action.PORTAL_LOGIN, account.pk, None) in actions
    assert (Action.PORTAL_LOGOUT, account.pk, None) in actions


def test_wrong_passwords_are_audited_then_locked_out(world: World) -> None:
    account = account_for(world, world.patient("north"))
    last = _last()
    for _ in range(LIMIT):
        response = Client().post("/portal/sign-in/", {"email": account.email, "password": "wrong password!"})
        assert response.status_code == 401
    locked = Client().post("/portal/sign-in/", {"email": account.email, "password": PASSWORD})
    assert locked.status_code == 429
    events = _after(last)
    assert [e.action for e in events] == [Action.PORTAL_LOGIN_FAILED] * LIMIT + [Action.PORTAL_LOGIN_LOCKED]
    assert {e.patient_account_id for e in events} == {account.pk}
    assert events[-1].outcome == Outcome.DENIED


def test_an_unknown_address_gets_the_same_answer(world: World) -> None:
    account = account_for(world, world.patient("north"))
    wrong = Client().post("/portal/sign-in/", {"email": account.email, "password": "wrong password!"})
    unknown = Client().post(
        "/portal/sign-in/", {"email": "nobody@example.org", "password": "wrong password!"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.context["error"] == unknown.context["error"]


def test_too_many_attempts_from_one_address_are_refused(world: World, settings: Any) -> None:
    settings.KETACLINIC_SIGNIN_RATE_PER_IP = 2
    account = account_for(world, world.patient("north"))
    for _ in range(2):
        assert (
            Client().post("/portal/sign-in/", {"email": "a@example.org", "password": "x"}).status_code == 401
        )
    assert (
        Client().post("/portal/sign-in/", {"email": account.email, "password": PASSWORD}).status_code == 429
    )


def test_staff_and_patient_credentials_do_not_cross(world: World) -> None:
    """A staff username and password do not open the portal; a patient's do not open the staff site."""
    account = account_for(world, world.patient("north"))
    staff = Client().post("/portal/sign-in/", {"email": "nurse.north", "password": "demo"})
    assert staff.status_code == 401
    patient = Client().post("/login/", {"username": account.email, "password": PASSWORD})
    assert patient.status_code == 401


def test_a_patient_session_opens_no_staff_page_or_api(world: World) -> None:
    account = account_for(world, world.patient("north"))
    client = signed_in(account)
    for url in ("/patients/", f"/patients/{account.patient_id}/", "/audit/", "/floor/", "/mfa/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url
    assert client.get("/api/v1/patients").status_code == 401
    assert client.get(f"/api/v1/patients/{account.patient_id}").status_code == 401
    assert client.get("/admin/").status_code == 302


def test_a_staff_session_cannot_sign_in_to_the_portal(world: World) -> None:
    """One identity per browser session: a signed-in staff member is refused the portal's sign-in too."""
    account = account_for(world, world.patient("north"))
    client = world.client("nurse.north")
    assert client.get("/portal/sign-in/").status_code == 403
    response = client.post("/portal/sign-in/", {"email": account.email, "password": PASSWORD})
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action=Action.PORTAL_LOGIN).exists()
    assert client.get("/portal/").status_code == 403


def test_a_new_password_ends_other_sessions(world: World) -> None:
    patient = world.patient("north")
    account = account_for(world, patient)
    old_session = signed_in(account)
    account_for(world, patient, password="a different long passphrase")
    assert old_session.get("/portal/").status_code == 302


def test_a_disabled_account_is_signed_out(world: World) -> None:
    account = account_for(world, world.patient("north"))
    client = signed_in(account)
    PatientAccount.objects.filter(pk=account.pk).update(is_active=False)
    assert client.get("/portal/").status_code == 302
    assert (
        Client().post("/portal/sign-in/", {"email": account.email, "password": PASSWORD}).status_code == 401
    )


def test_an_idle_session_times_out_and_is_audited(world: World, settings: Any) -> None:
    account = account_for(world, world.patient("north"))
    client = signed_in(account)
    session = client.session
    session[auth.LAST_SEEN] = session[auth.LAST_SEEN] - settings.KETACLINIC_IDLE_TIMEOUT_SECONDS - 5
    session.save()
    last = _last()
    response = client.get("/portal/")
    assert response.status_code == 302 and response["Location"].startswith("/portal/sign-in/")
    assert [(e.action, e.patient_account_id) for e in _after(last)] == [
        (Action.PORTAL_SESSION_TIMEOUT, account.pk)
    ]
    assert client.get("/portal/").status_code == 302


def test_the_portal_account_of_an_audit_row_is_in_its_hash(world: World) -> None:
    account = account_for(world, world.patient("north"))
    signed_in(account).get("/portal/")
    assert verify_chain().ok
    event = AuditEvent.objects.filter(patient_account=account).order_by("-seq").first()
    assert event is not None
    other = account_for(world, world.patient("north", 1))
    _bypass_triggers(
        "UPDATE audit_auditevent SET patient_account_id = %s WHERE seq = %s", [other.pk, event.seq]
    )
    report = verify_chain()
    assert not report.ok and report.first_bad_seq == event.seq
