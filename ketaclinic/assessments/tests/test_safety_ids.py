"""Alert and plan ids past any row (past a 64-bit key, longer than the audit row's object column) answer 404,
never a database error, on the pages and the API."""

from __future__ import annotations

import json

import pytest

from conftest import World


@pytest.mark.parametrize("entry_id", ["999999", str(2**63), "9" * 80])
def test_an_alert_or_plan_id_that_names_no_row_is_not_found(world: World, entry_id: str) -> None:
    patient = world.patient("north")
    api, page = world.api("prescriber.north"), world.client("prescriber.north")
    base = f"/api/v1/patients/{patient.pk}"
    note = json.dumps({"note": "x"})
    closed = api.post(f"{base}/safety-alerts/{entry_id}/close", note, content_type="application/json")
    assert closed.status_code == 404
    assert api.get(f"{base}/safety-plans/{entry_id}").status_code == 404
    assert page.get(f"/safety/patients/{patient.pk}/alerts/{entry_id}/review/").status_code == 404
