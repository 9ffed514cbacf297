"""A retried API POST with the same Idempotency-Key gets the first answer and creates nothing more.

What a client relies on: the same key, user and request return the first status, body and Location; the
same key with another request is refused (422, naming the header); keys are per user, bounded, kept for
the window and pruned after it; a failed request leaves nothing behind, so its retry runs once; a replay
is a read, checked and audited like one.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import TYPE_CHECKING, Any

import pytest
from django.core.management import call_command
from django.http import HttpResponse
from django.test import Client
from django.utils import timezone
from pytest_django import Settings

from ketaclinic import config
from ketaclinic.accounts.actions import do_disable_staff, do_revoke_api_token, do_revoke_role
from ketaclinic.accounts.models import ApiToken, Membership
from ketaclinic.audit.models import Action, AuditEvent, Outcome
from ketaclinic.idempotency import keys, store
from ketaclinic.idempotency.keys import HEADER, REPLAYED_HEADER
from ketaclinic.idempotency.models import IdempotencyKey
from ketaclinic.idempotency.replay import REPLAY
from ketaclinic.patients import api as patients_api
from ketaclinic.patients.models import Patient

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

    from conftest import World

URL = "/api/v1/patients"
BODY = {
    "location": "north",
    "given_name": "Idem",
    "family_name": "Potent",
    "date_of_birth": "1980-02-03",
    "sex": "female",
}


def post(client: Client, body: Any, key: str | None, url: str = URL) -> TestResponse:
    headers = {HEADER: key} if key is not None else {}
    data = body if isinstance(body, str) else json.dumps(body)
    response: TestResponse = client.post(url, data=data, content_type="application/json", headers=headers)
    return response


def registered(family_name: str = "Potent") -> int:
    return Patient.objects.filter(family_name=family_name).count()


def test_the_same_key_and_body_return_the_first_answer_and_create_nothing_more(world: World) -> None:
    nurse = world.api("nurse.north")
    first = post(nurse, BODY, "retry-1")
    assert first.status_code == 201 and registered() == 1
    for _ in range(3):
        again = post(nurse, BODY, "retry-1")
        assert (again.status_code, again.content, again["Location"]) == (
            201,
            first.content,
            first["Location"],
        )
        assert again["ETag"] == first["ETag"] and again[REPLAYED_HEADER] == "true"
    assert REPLAYED_HEADER not in first
    assert registered() == 1


def test_without_a_key_a_resent_post_creates_again(world: World) -> None:
    """The control: the tests above would see a second registration."""
    nurse = world.api("nurse.north")
    confirmed = {**BODY, "confirm_duplicate": True}
    assert post(nurse, confirmed, None).status_code == 201
    assert post(nurse, confirmed, None).status_code == 201
    assert registered() == 2


def test_the_same_key_with_another_body_or_path_is_refused_naming_the_header(world: World) -> None:
    nurse = world.api("nurse.north")
    assert post(nurse, BODY, "once").status_code == 201
    other = post(nurse, {**BODY, "given_name": "Someone"}, "once")
    assert other.status_code == 422
    assert other["Content-Type"].startswith("application/json")
    assert HEADER in other.json()["errors"]
    elsewhere = post(nurse, {"q": "Potent"}, "once", url=f"{URL}/search")
    assert elsewhere.status_code == 422 and HEADER in elsewhere.json()["errors"]
    assert registered() == 1 and Patient.objects.filter(given_name="Someone").count() == 0


def test_keys_are_per_user_and_an_answer_never_reaches_another_user(world: World) -> None:
    nurse, prescriber = world.api("nurse.north"), world.api("prescriber.north")
    mine = post(nurse, BODY, "shared-key")
    theirs = post(prescriber, {**BODY, "confirm_duplicate": True}, "shared-key")
    assert theirs.status_code == 201 and REPLAYED_HEADER not in theirs
    assert theirs["Location"] != mine["Location"]
    # The same key and the very same body from another user: their own request, not the stored answer.
    south = world.api("nurse.south")
    south_body = {**BODY, "location": "south"}
    answer = post(south, south_body, "shared-key")
    assert answer.status_code == 201 and REPLAYED_HEADER not in answer
    assert mine["Location"] not in answer.content.decode()
    assert registered() == 3
    assert IdempotencyKey.objects.filter(key="shared-key").count() == 3


def test_another_token_of_the_same_user_shares_the_key(world: World) -> None:
    first = post(world.api("nurse.north"), BODY, "same-user")
    second = post(world.api("nurse.north"), BODY, "same-user")  # world.api makes a new token each time
    assert second[REPLAYED_HEADER] == "true" and second.content == first.content
    assert registered() == 1


@pytest.mark.parametrize(
    ("key", "ok"),
    [
        ("k" * keys.KEY_MAX_LENGTH, True),
        ('"8e03978e-40d5-43e8-bc93-6894a57f9324"', True),  # the draft's sf-string form
        ("k" * (keys.KEY_MAX_LENGTH + 1), False),
        ("", False),
        ("   ", False),
        ("two words", False),
        ("cl\u00e9", False),
    ],
)
def test_a_key_is_bounded_and_visible_ascii(world: World, key: str, ok: bool) -> None:
    response = post(world.api("nurse.north"), BODY, key)
    if ok:
        assert response.status_code == 201
        return
    assert response.status_code == 422
    assert response.json()["errors"] == {HEADER: keys.KEY_RULE}
    assert registered() == 0 and not IdempotencyKey.objects.exists()


def test_the_quoted_and_bare_forms_of_a_key_are_one_key(world: World) -> None:
    nurse = world.api("nurse.north")
    first = post(nurse, BODY, "abc-123")
    assert post(nurse, BODY, '"abc-123"').content == first.content
    assert registered() == 1


def test_without_a_valid_token_the_key_changes_nothing(world: World) -> None:
    anonymous = post(Client(), BODY, "anon")
    assert anonymous.status_code == 401
    forged = post(Client(headers={"Authorization": "Bearer kc_forged"}), BODY, "anon")
    assert forged.status_code == 401
    assert not IdempotencyKey.objects.exists()


def test_a_revoked_token_or_disabled_user_gets_401_not_the_stored_answer(world: World) -> None:
    """A replay answers only to a user the API's token check (api.auth.user_for_token) accepts now."""
    token = world.token("nurse.north")
    client = Client(headers={"Authorization": f"Bearer {token}"})
    assert post(client, BODY, "then-revoked").status_code == 201
    do_revoke_api_token(ApiToken.objects.get(user__username="nurse.north"))
    revoked = post(client, BODY, "then-revoked")
    assert revoked.status_code == 401 and b"Potent" not in revoked.content
    frontdesk = world.api("frontdesk.north")
    assert post(frontdesk, {**BODY, "confirm_duplicate": True}, "then-disabled").status_code == 201
    do_disable_staff(world.user("frontdesk.north"))
    disabled = post(frontdesk, {**BODY, "confirm_duplicate": True}, "then-disabled")
    assert disabled.status_code == 401 and b"Potent" not in disabled.content


def test_a_refusal_is_not_kept_so_the_corrected_request_may_reuse_the_key(world: World) -> None:
    nurse = world.api("nurse.north")
    refused = post(nurse, {**BODY, "date_of_birth": "not a date"}, "fix-me")
    assert refused.status_code == 422 and HEADER not in refused.json().get("errors", {})
    assert not IdempotencyKey.objects.exists()
    assert post(nurse, BODY, "fix-me").status_code == 201
    assert registered() == 1


def test_a_denial_is_not_kept_and_stays_audited(world: World) -> None:
    therapist = world.api("therapist.north")  # reads charts, may not register
    denials = AuditEvent.objects.filter(outcome=Outcome.DENIED).count()
    assert post(therapist, BODY, "denied").status_code == 403
    assert AuditEvent.objects.filter(outcome=Outcome.DENIED).count() == denials + 1
    assert not IdempotencyKey.objects.exists()


def _failing_after_the_write(monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    """The registration is written, then building the answer fails (an exception, or a 500 answer)."""

    def fail(*args: Any, **kwargs: Any) -> HttpResponse:
        if how == "raise":
            raise RuntimeError("the answer could not be built")
        return HttpResponse(b'{"detail": "Server error."}', status=500, content_type="application/json")

    monkeypatch.setattr(patients_api, "_chart_response", fail)


@pytest.mark.parametrize("how", ["raise", "answer"])
def test_a_server_error_leaves_nothing_so_the_retry_runs_once(
    world: World, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    nurse = world.api("nurse.north")
    nurse.raise_request_exception = False
    events = AuditEvent.objects.count()
    with monkeypatch.context() as patch:
        _failing_after_the_write(patch, how)
        assert post(nurse, BODY, "crash").status_code == 500
    assert registered() == 0 and not IdempotencyKey.objects.exists()
    assert AuditEvent.objects.count() == events  # the registration's audit row went with it
    retried = post(nurse, BODY, "crash")
    assert retried.status_code == 201 and REPLAYED_HEADER not in retried
    assert registered() == 1


def test_a_replay_is_audited_as_a_read_of_the_patient(world: World) -> None:
    nurse = world.api("nurse.north")
    first = post(nurse, BODY, "audited")
    patient = Patient.objects.get(family_name="Potent")
    assert post(nurse, BODY, "audited").status_code == 201
    event = AuditEvent.objects.filter(patient=patient).order_by("-seq").first()
    assert event is not None
    assert (event.action, event.changed_fields, event.actor) == (
        Action.PATIENT_READ,
        [REPLAY],
        world.user("nurse.north"),
    )
    assert first.status_code == 201


def test_a_replayed_search_is_audited_as_a_search(world: World) -> None:
    nurse = world.api("nurse.north")
    first = post(nurse, {"q": "a"}, "search-key", url=f"{URL}/search")
    again = post(nurse, {"q": "a"}, "search-key", url=f"{URL}/search")
    assert again.content == first.content and again[REPLAYED_HEADER] == "true"
    event = AuditEvent.objects.order_by("-seq").first()
    assert event is not None and (event.action, event.changed_fields) == (Action.PATIENT_SEARCH, [REPLAY])


def test_a_replay_after_access_was_revoked_is_refused_without_the_chart(world: World) -> None:
    nurse = world.api("nurse.north")
    assert post(nurse, BODY, "revoked").status_code == 201
    membership = Membership.objects.get(user=world.user("nurse.north"))
    do_revoke_role(membership, actor=world.user("admin.north"))
    denials = AuditEvent.objects.filter(outcome=Outcome.DENIED).count()
    again = post(nurse, BODY, "revoked")
    assert again.status_code == 404
    assert b"Potent" not in again.content
    assert AuditEvent.objects.filter(outcome=Outcome.DENIED).count() == denials + 1


def test_a_replayed_search_after_the_role_was_revoked_is_refused(world: World) -> None:
    nurse = world.api("nurse.north")
    assert post(nurse, {"q": "a"}, "search-revoked", url=f"{URL}/search").status_code == 200
    do_revoke_role(Membership.objects.get(user=world.user("nurse.north")), actor=world.user("admin.north"))
    again = post(nurse, {"q": "a"}, "search-revoked", url=f"{URL}/search")
    assert again.status_code == 403 and again.json() == {"detail": "Your role does not allow this."}


def test_answers_live_in_the_database_and_never_in_the_logs(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    nurse = world.api("nurse.north")
    with caplog.at_level(logging.DEBUG):
        post(nurse, BODY, "quiet")
        post(nurse, BODY, "quiet")
    row = IdempotencyKey.objects.get(key="quiet")
    assert b"Potent" in bytes(row.body)
    assert "Potent" not in caplog.text and "quiet" not in caplog.text


def _age(key: str, hours: float) -> None:
    IdempotencyKey.objects.filter(key=key).update(created_at=timezone.now() - dt.timedelta(hours=hours))


def test_a_key_is_kept_for_the_window_and_free_again_after_it(world: World, settings: Settings) -> None:
    nurse = world.api("nurse.north")
    confirmed = {**BODY, "confirm_duplicate": True}
    post(nurse, confirmed, "day-old")
    _age("day-old", settings.KETACLINIC_IDEMPOTENCY_HOURS - 0.1)
    assert post(nurse, confirmed, "day-old")[REPLAYED_HEADER] == "true"
    _age("day-old", settings.KETACLINIC_IDEMPOTENCY_HOURS + 0.1)
    assert REPLAYED_HEADER not in post(nurse, confirmed, "day-old")
    assert registered() == 2
    assert IdempotencyKey.objects.filter(key="day-old").count() == 1


def test_the_prune_command_deletes_expired_answers_only(world: World, settings: Settings) -> None:
    nurse = world.api("nurse.north")
    post(nurse, BODY, "old")
    post(nurse, {"q": "a"}, "fresh", url=f"{URL}/search")
    _age("old", settings.KETACLINIC_IDEMPOTENCY_HOURS + 1)
    call_command("prune_idempotency_keys")
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["fresh"]


def test_a_keyed_post_prunes_when_this_process_has_not_for_an_hour(
    world: World, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    nurse = world.api("nurse.north")
    post(nurse, BODY, "stale")
    _age("stale", settings.KETACLINIC_IDEMPOTENCY_HOURS + 1)
    monkeypatch.setattr(store, "_last_prune", store._last_prune)  # restored after the test
    store._last_prune = float("inf")  # pruned a moment ago: not yet
    post(nurse, {"q": "a"}, "trigger-1", url=f"{URL}/search")
    assert IdempotencyKey.objects.filter(key="stale").exists()
    store._last_prune = -store.PRUNE_EVERY_SECONDS  # an hour since: now
    post(nurse, {"q": "a"}, "trigger-2", url=f"{URL}/search")
    assert not IdempotencyKey.objects.filter(key="stale").exists()


@pytest.mark.parametrize(("value", "hours"), [(None, 24), ("48", 48)])
def test_the_window_is_a_setting_of_at_least_a_day(
    monkeypatch: pytest.MonkeyPatch, value: str | None, hours: int
) -> None:
    if value is None:
        monkeypatch.delenv("KETACLINIC_IDEMPOTENCY_HOURS", raising=False)
    else:
        monkeypatch.setenv("KETACLINIC_IDEMPOTENCY_HOURS", value)
    assert config.load().idempotency_hours == hours


def test_a_window_shorter_than_a_day_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KETACLINIC_IDEMPOTENCY_HOURS", "23")
    with pytest.raises(config.ConfigError, match="KETACLINIC_IDEMPOTENCY_HOURS"):
        config.load()
