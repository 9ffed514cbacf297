"""What the audit trail page shows: one time format, the filters it was given, and a pager that keeps them."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

from django.test import Client

from ketaclinic.audit.models import AuditEvent
from ketaclinic.audit_review.views import PAGE_SIZE

if TYPE_CHECKING:
    from conftest import World


def test_times_read_as_utc_minutes_and_dates_as_iso(world: World, today: dt.date) -> None:
    admin = world.client("admin.north")
    body = admin.post("/audit/", {"date_from": today.isoformat()}).content.decode()
    shown = re.findall(r'<td class="num small time">(.*?)</td>', body)
    assert shown
    for cell in shown:
        assert re.fullmatch(
            r'<span class="nowrap">\d{4}-\d{2}-\d{2}</span> <span class="nowrap">\d{2}:\d{2} UTC</span>', cell
        )
    assert f'value="{today.isoformat()}"' in body  # the filter comes back as typed, YYYY-MM-DD
    assert "YYYY-MM-DD" in body


def test_the_pager_carries_the_filters_but_not_the_token_or_the_export(world: World) -> None:
    admin = world.client("admin.north")
    for _ in range(PAGE_SIZE + 1):  # enough reads of the trail for a second page
        admin.get("/audit/")
    response = admin.post("/audit/", {"username": "admin.north", "sort": "user", "direction": "asc"})
    body = response.content.decode()
    pager = body[body.index('<div class="pager">') :]
    assert 'name="username" value="admin.north"' in pager and 'name="sort" value="user"' in pager
    assert 'name="page" value="2"' in pager
    assert pager.count('name="csrfmiddlewaretoken"') == 1  # the form's own token, once per button
    assert 'name="export"' not in pager
    second = admin.post(
        "/audit/", {"username": "admin.north", "sort": "user", "direction": "asc", "page": "2"}
    )
    assert second.status_code == 200 and second.context["page"].number == 2
    assert 'name="page" value="1"' in second.content.decode()


def test_a_refused_filter_is_named_beside_its_field(world: World) -> None:
    body = world.client("admin.north").post("/audit/", {"date_from": "yesterday"}).content.decode()
    assert 'id="e-date_from"' in body and "YYYY-MM-DD" in body


def test_the_trail_is_for_clinic_admins_only(world: World) -> None:
    assert Client().get("/audit/").status_code == 302
    for who in ("nurse.north", "prescriber.south", "therapist.north", "frontdesk.south"):
        assert world.client(who).get("/audit/").status_code == 403
    assert AuditEvent.objects.filter(outcome="denied", actor__username="nurse.north").exists()
    assert world.client("admin.south").get("/audit/").status_code == 200
