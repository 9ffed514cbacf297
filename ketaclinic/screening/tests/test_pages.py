"""The screening pages: a patient's screenings, one screening's findings and acknowledgement, the chart's
panel, REMS enrolment; each refusal shown on the page with nothing saved."""

from __future__ import annotations

import html

from conftest import World
from ketaclinic.screening.models import Acknowledgement, RemsEnrolment, Screening
from ketaclinic.screening.tests import helpers as h


def _text(response: object) -> str:
    return html.unescape(response.content.decode())  # type: ignore[attr-defined]


def test_run_a_screening_from_the_page_and_acknowledge_a_finding(world: World) -> None:
    p = h.patient(conditions=("major_depressive_disorder", "psychosis_history"))
    client = world.client("prescriber.north")
    page = client.get(f"/screening/patients/{p.pk}/")
    assert page.status_code == 200 and "Not screened" in _text(page)
    r = client.post(f"/screening/patients/{p.pk}/run/", {"modality": "iv_ketamine"})
    assert r.status_code == 302
    s = Screening.objects.get(patient=p)
    assert r["Location"] == f"/screening/patients/{p.pk}/{s.pk}/"
    detail = _text(client.get(r["Location"]))
    assert "ELIG-ALL-ACK-PSYCHOSIS" in detail and "Awaiting acknowledgement" in detail
    assert "[S" in detail or "pic-tag" in detail  # sources with their citations
    done = client.post(
        f"/screening/patients/{p.pk}/{s.pk}/acknowledge/",
        {"rule_id": "ELIG-ALL-ACK-PSYCHOSIS", "reason": "Stable for ten years."},
    )
    assert done.status_code == 302
    after = _text(client.get(done["Location"]))
    assert "Stable for ten years." in after and "Acknowledgement saved." in after


def test_a_stale_screening_says_so_plainly(world: World) -> None:
    p = h.patient()
    s = h.screen(p, "iv_ketamine")
    client = world.client("nurse.north")
    assert "out of date" not in _text(client.get(f"/screening/patients/{p.pk}/{s.pk}/"))
    h.add_condition(p, "hypertension")
    assert "This screening is out of date." in _text(client.get(f"/screening/patients/{p.pk}/{s.pk}/"))
    assert "Out of date" in _text(client.get(f"/screening/patients/{p.pk}/panel/"))


def test_refused_acknowledgements_show_on_the_page(world: World) -> None:
    p = h.patient(
        conditions=("major_depressive_disorder", "aneurysmal_vascular_disease", "psychosis_history")
    )
    s = h.screen(p, "esketamine_nasal")
    client = world.client("prescriber.north")
    url = f"/screening/patients/{p.pk}/{s.pk}/acknowledge/"
    ci = client.post(url, {"rule_id": "ELIG-ESK-CI-ANEURYSM", "reason": "Please."})
    assert ci.status_code == 409 and "cannot be acknowledged" in _text(ci)
    blank = client.post(url, {"rule_id": "ELIG-ALL-ACK-PSYCHOSIS", "reason": " "})
    assert blank.status_code == 422 and "Reason" in _text(blank)
    assert not Acknowledgement.objects.exists()


def test_the_chart_links_its_screening_panel(world: World) -> None:
    p = h.patient()
    h.screen(p, "esketamine_nasal")
    chart = _text(world.client("nurse.north").get(f"/patients/{p.pk}/"))
    assert f"/screening/patients/{p.pk}/panel/" in chart
    panel = _text(world.client("nurse.north").get(f"/screening/patients/{p.pk}/panel/"))
    assert "Esketamine nasal" in panel and "Not enrolled" in panel


def test_rems_enrolment_from_the_page(world: World) -> None:
    p = h.patient()
    client = world.client("prescriber.north")
    bad = client.post(
        f"/screening/patients/{p.pk}/rems-enrolment/", {"enrolled_on": "2999-01-01", "rems_patient_id": ""}
    )
    assert bad.status_code == 422 and not RemsEnrolment.objects.exists()
    ok = client.post(
        f"/screening/patients/{p.pk}/rems-enrolment/",
        {"enrolled_on": "2026-01-05", "rems_patient_id": "SPR-9"},
    )
    assert ok.status_code == 302
    assert "SPR-9" in _text(client.get(f"/screening/patients/{p.pk}/"))


def test_another_patients_screening_is_not_found_under_a_patient_the_user_may_see(world: World) -> None:
    mine, other = h.patient(), h.patient(given="Other", family="Person")
    s = h.screen(other, "iv_ketamine")
    client = world.client("prescriber.north")
    assert client.get(f"/screening/patients/{mine.pk}/{s.pk}/").status_code == 404
    r = client.post(f"/screening/patients/{mine.pk}/{s.pk}/acknowledge/", {"rule_id": "X-Y", "reason": "r"})
    assert r.status_code == 404
    assert client.get(f"/screening/patients/{mine.pk}/{2**63}/").status_code == 404
