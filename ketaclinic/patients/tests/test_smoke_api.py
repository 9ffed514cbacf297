from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import World


def test_front_desk_registers_and_reads_a_patient_over_the_api(world: World) -> None:
    api = world.api("frontdesk.north")
    body = {
        "location": "north",
        "given_name": "Ada",
        "family_name": "Quill",
        "date_of_birth": "1980-04-02",
        "sex": "female",
        "antidepressant_trials": [
            {
                "drug": "sertraline",
                "max_daily_dose_mg": "200",
                "weeks_at_dose": "8",
                "adequate_dose": True,
                "outcome": "none",
                "current_episode": True,
            }
        ],
    }
    created = api.post("/api/v1/patients", json.dumps(body), content_type="application/json")
    assert created.status_code == 201, created.content
    pid = created.json()["id"]
    read = api.get(f"/api/v1/patients/{pid}")
    assert read.status_code == 200
    assert read.json()["antidepressant_trials"][0]["name"] == "Sertraline"
