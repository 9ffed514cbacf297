"""Two clinic admins changing the same location at the same moment: one change is kept, the other is
refused as stale (412); two chairs added with one name at once: one is added, the other refused (422).

The requests run in this process on threads, each with its own connection, against committed data; so on
PostgreSQL only (SQLite's in-memory test database cannot wait for a lock), as idempotency's race test.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client

from ketaclinic.audit.actions import verify_chain
from ketaclinic.audit.tests.test_writer import chain as chain
from ketaclinic.idempotency.tests.test_concurrent import committed_world as committed_world

pytestmark = pytest.mark.skipif(
    connection.vendor == "sqlite", reason="SQLite's in-memory test database cannot wait for a lock"
)
THREADS = 4


def _tokens() -> list[str]:
    from ketaclinic.accounts.actions import do_create_api_token, do_create_staff, do_grant_role
    from ketaclinic.accounts.models import ClinicLocation, User

    north = ClinicLocation.objects.get(slug="north")
    admins = [User.objects.get(username="admin.north")]
    for n in range(1, THREADS):
        user = do_create_staff(north.network, f"admin{n}.north", "", password_hash="!")
        do_grant_role(user, north, "clinic_admin")
        admins.append(user)
    return [do_create_api_token(user, name="race")[1] for user in admins]


def _race(calls: list[Any]) -> list[tuple[int, dict[str, Any]]]:
    start = threading.Barrier(len(calls))
    answers: list[tuple[int, dict[str, Any]] | None] = [None] * len(calls)

    def run(index: int) -> None:
        start.wait()
        try:
            response = calls[index]()
            answers[index] = (response.status_code, response.json())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
        assert not thread.is_alive()
    return [a for a in answers if a is not None]


def test_admins_changing_one_policy_at_once_keep_one_change(committed_world: None) -> None:
    from ketaclinic.accounts.models import ClinicLocation, User
    from ketaclinic.clinicpolicy.actions import do_change_policy
    from ketaclinic.clinicpolicy.inputs import PolicyChangeIn
    from ketaclinic.clinicpolicy.models import PolicyChange
    from ketaclinic.clinicpolicy.queries import policy_for

    north = ClinicLocation.objects.get(slug="north")
    url = f"/api/v1/locations/{north.pk}/policy"
    tokens = _tokens()
    # The policy row exists (version 1): the admins race on one row, not on its creation.
    first = PolicyChangeIn(values={"madrs_remission_max": 12}, reason="first")
    do_change_policy(north, first, actor=User.objects.get(username="admin.north"), expected_version=0)

    def call(token: str, value: int) -> Any:
        body = json.dumps({"values": {"spo2_alert_below": value}, "reason": f"set {value}"})
        client = Client(headers={"Authorization": f"Bearer {token}", "If-Match": '"1"'})
        return lambda: client.patch(url, body, "application/json")

    answers = _race([call(token, 80 + i) for i, token in enumerate(tokens)])
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] + [412] * (THREADS - 1), answers
    kept = PolicyChange.objects.get(location=north, version=2)
    assert (
        PolicyChange.objects.filter(location=north).count() == 2
        and policy_for(north).spo2_alert_below == kept.changes["spo2_alert_below"]["new"]
    )
    assert verify_chain().ok


def test_one_name_added_twice_at_once_is_one_chair(committed_world: None) -> None:
    from ketaclinic.accounts.models import ClinicLocation
    from ketaclinic.clinicpolicy.models import Chair

    north = ClinicLocation.objects.get(slug="north")
    url = f"/api/v1/locations/{north.pk}/chairs"

    def call(token: str) -> Any:
        client = Client(headers={"Authorization": f"Bearer {token}"})
        return lambda: client.post(url, json.dumps({"name": "Chair 42"}), "application/json")

    answers = _race([call(token) for token in _tokens()])
    assert sorted(status for status, _ in answers) == [201] + [422] * (THREADS - 1), answers
    assert all("name" in body["errors"] for status, body in answers if status == 422)
    assert Chair.objects.filter(location=north, name="Chair 42").count() == 1
