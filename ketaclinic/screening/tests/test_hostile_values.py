"""Every free-text value of screening and consent is shown as text: the columns come from the models.

Each text column without choices (and each finding's message and rule id, kept as JSON) holds markup that
would run if it were not escaped; the pages that show them must show it as text.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from markupsafe import escape

from conftest import World
from ketaclinic.patients.tests.test_hostile_values import ATTACK, _assert_escaped, _free_text, _hostile
from ketaclinic.screening.models import Screening
from ketaclinic.screening.tests import helpers as h

# Set by KetaClinic, never typed: the rule-set version and the facts' fingerprint.
SYSTEM_SET = {"ruleset_version", "facts_fingerprint"}


def _plant(row: models.Model) -> dict[str, str]:
    """Hostile values in every free-text column of the row (cut to the column's length), by column."""
    values: dict[str, Any] = {}
    for f in _free_text(type(row)):
        if f.name in SYSTEM_SET:
            continue
        values[f.name] = _hostile(f, f"{type(row).__name__}.{f.name}")
    type(row)._default_manager.filter(pk=row.pk).update(**values)
    return {f"{type(row).__name__}.{name}": value for name, value in values.items()}


def test_screening_and_consent_pages_show_hostile_values_as_text(world: World) -> None:
    p = h.patient(conditions=("major_depressive_disorder", "psychosis_history"))
    s = h.screen(p, "iv_ketamine")
    h.acknowledge_all(s)
    h.enrol(p)
    doc = h.document("north", "iv_ketamine")
    consent = h.sign(p, doc)
    planted: dict[str, str] = {}
    for row in (s, *s.acknowledgements.all(), p.rems_enrolments.get(), doc, consent):
        planted |= _plant(row)
    # The acknowledged finding carries the acknowledgement's (hostile) rule id, and a hostile message.
    message = ATTACK.format(tag="finding.message")
    acked = {"rule_id": planted["Acknowledgement.rule_id"], "level": "acknowledge", "message": message}
    Screening.objects.filter(pk=s.pk).update(findings=[{**acked, "sources": ["S7"]}])
    planted["finding.message"] = message
    nurse, admin = world.client("nurse.north"), world.client("admin.north")
    pages = [
        nurse.get(f"/screening/patients/{p.pk}/{s.pk}/"),
        nurse.get(f"/screening/patients/{p.pk}/"),
        nurse.get(f"/screening/patients/{p.pk}/panel/"),
        nurse.get(f"/consent/patients/{p.pk}/"),
        nurse.get(f"/consent/patients/{p.pk}/sign/{doc.pk}/"),
        admin.get("/consent/documents/"),
        admin.get(f"/consent/documents/{doc.pk}/"),
    ]
    shown = ""
    for response in pages:
        assert response.status_code == 200
        html = response.content.decode()
        _assert_escaped(html)
        shown += html
    missing = [column for column, value in planted.items() if str(escape(value)) not in shown]
    assert missing == []
