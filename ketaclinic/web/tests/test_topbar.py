"""The top bar is kept per user, grants and page (web/topbar.py): a kept bar must never go stale."""

from __future__ import annotations

import re

import pytest
from django.template import engines
from jinja2 import DictLoader, Environment

from conftest import World
from ketaclinic.accounts.actions import do_grant_role, do_revoke_role
from ketaclinic.accounts.models import ClinicLocation, Membership
from ketaclinic.web import topbar

pytestmark = pytest.mark.django_db

AUDIT_LINK = '<a href="/audit/"'


def _bar(page: str) -> str:
    found = re.search(r'<header class="top">.*?</header>', page, re.S)
    assert found is not None, "no top bar"
    return found.group(0)


def _csrf(html: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_a_role_granted_or_revoked_shows_on_the_next_page(world: World) -> None:
    nurse = world.user("nurse.north")
    client = world.client("nurse.north")
    assert AUDIT_LINK not in _bar(client.get("/patients/").content.decode())  # kept from here on
    location = ClinicLocation.objects.get(slug="north")
    do_grant_role(nurse, location, "clinic_admin")
    assert AUDIT_LINK in _bar(client.get("/patients/").content.decode())
    do_revoke_role(Membership.objects.get(user=nurse, location=location, role="clinic_admin"))
    assert AUDIT_LINK not in _bar(client.get("/patients/").content.decode())


def test_the_page_itself_is_marked_on_each_page(world: World) -> None:
    client = world.client("nurse.north")
    patients = _bar(client.get("/patients/").content.decode())
    floor = _bar(client.get("/floor/").content.decode())
    assert re.search(r'href="/patients/" aria-current="page"', patients)
    assert not re.search(r'href="/floor/" aria-current="page"', patients)
    assert re.search(r'href="/floor/" aria-current="page"', floor)
    assert not re.search(r'href="/patients/" aria-current="page"', floor)


def test_a_new_name_shows_at_once(world: World) -> None:
    nurse = world.user("nurse.north")
    client = world.client("nurse.north")
    client.get("/patients/")
    nurse.first_name, nurse.last_name = "Renamed", "Person"
    nurse.save(update_fields=["first_name", "last_name"])
    assert "Renamed Person" in _bar(client.get("/patients/").content.decode())


def test_two_users_with_the_same_roles_see_their_own_names(world: World) -> None:
    first = _bar(world.client("nurse.north").get("/patients/").content.decode())
    other = world.user("nurse.north")
    assert world.user("prescriber.north").get_full_name() not in first
    assert other.get_full_name() in first


def test_the_log_out_form_carries_this_pages_token(world: World) -> None:
    client = world.client("nurse.north")
    first = client.get("/patients/").content.decode()
    second = client.get("/patients/").content.decode()
    token = _csrf(_bar(second))
    assert token != _csrf(_bar(first))  # masked afresh on every page, as Django does
    assert token == re.search(r'"X-CSRFToken": "([^"]+)"', second).group(1)  # type: ignore[union-attr]
    assert "<!--csrf-input-->" not in second


def test_a_bar_kept_is_the_bar_drawn(world: World) -> None:
    pages = {"nurse.north": "/floor/", "prescriber.north": "/worklist/", "frontdesk.north": "/patients/"}
    for who, url in {**pages, "admin.north": "/audit/", "therapist.south": "/patients/"}.items():
        client = world.client(who)
        kept = _bar(client.get(url).content.decode())
        topbar.forget()
        drawn = _bar(client.get(url).content.decode())
        assert kept.replace(_csrf(kept), "") == drawn.replace(_csrf(drawn), ""), who


def test_no_bar_before_sign_in() -> None:
    from django.test import Client

    page = Client().get("/login/").content.decode()
    assert '<header class="top">' not in page


def _bar_including(include: str) -> Environment:
    """A bar template that includes, by `include`, a template reading the request."""
    bar = "{% if nav is defined %}{% include " + include + " %}{% endif %}"
    templates = {topbar.TEMPLATE: bar, "extra.html": "{{ request.user.email }}"}
    return Environment(loader=DictLoader(templates), autoescape=True)


def test_a_bar_template_that_reads_anything_else_is_refused() -> None:
    with pytest.raises(RuntimeError, match=r"\['request'\]"):
        topbar._check_reads(_bar_including('"extra.html"'))


def test_a_bar_template_that_includes_by_a_computed_name_is_refused() -> None:
    with pytest.raises(RuntimeError, match="computed name"):
        topbar._check_reads(_bar_including('"extra" ~ ".html"'))


def test_the_real_bar_reads_only_what_it_is_kept_by() -> None:
    topbar._check_reads(engines["jinja2"].env)  # type: ignore[attr-defined]
