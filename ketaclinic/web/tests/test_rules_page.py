"""Staff can read the rule catalogue and the policy values in force; the docs copy stays current."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from ketaclinic.clinical.rules import RULES, RULESET_VERSION


def test_every_staff_role_reads_the_catalogue(world):
    for who in ("nurse.north", "admin.south", "therapist.north"):
        page = world.client(who).get("/rules/")
        assert page.status_code == 200
        body = page.content.decode()
        assert RULESET_VERSION in body and "ELIG-ALL-ACK-PREGNANCY" in body and "madrs_remission_max" in body
        assert body.count("<tr id=") == len(RULES)


def test_catalogue_needs_a_login_and_a_role(world):
    from ketaclinic.accounts.actions import do_create_staff

    assert world.client(None).get("/rules/").status_code == 302
    loner = do_create_staff(world.user("nurse.north").network, "no.roles", "a-long-enough-pass-phrase")
    client = world.client(None)
    client.force_login(loner)
    assert client.get("/rules/").status_code == 403


def test_rules_command_prints_and_checks_the_catalogue(db):
    out = StringIO()
    call_command("rules", stdout=out)
    assert out.getvalue().startswith("# KetaClinic clinical rule catalogue")
    check = StringIO()
    call_command("rules", "--check-docs", stdout=check)
    assert "current" in check.getvalue()
