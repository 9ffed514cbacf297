"""The demo clinic's patient with a portal login, printed by load_demo beside the staff logins."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django.test import Client, override_settings

from ketaclinic.clinical.preparation import ESKETAMINE_PREPARATION
from ketaclinic.portal import demo


@override_settings(KETACLINIC_DEMO=True)
def test_the_demo_patient_signs_in_and_sees_their_preparation(db: None) -> None:
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert f"{demo.EMAIL} (password '{demo.PASSWORD}')" in out.getvalue()
    client = Client()
    response = client.post("/portal/sign-in/", {"email": demo.EMAIL, "password": demo.PASSWORD})
    assert response.status_code == 302
    html = client.get("/portal/").content.decode()
    assert ESKETAMINE_PREPARATION[0].text in html
    assert client.get("/portal/history/").status_code == 200
