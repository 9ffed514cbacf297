"""A location's clinic policy: overrides on top of the defaults, changed by its clinic admins with a reason,
versioned, audited with old and new values, and in force through `policy_for` for what is judged next."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from pytest_django import DjangoAssertNumQueries

from ketaclinic.accounts.actions import do_create_staff, do_grant_role
from ketaclinic.accounts.models import ClinicLocation, User
from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.clinical.policy import DEFAULT_POLICY, BloodPressure, policy_from_json, policy_to_json
from ketaclinic.clinicpolicy.actions import do_change_policy
from ketaclinic.clinicpolicy.inputs import PolicyChangeIn
from ketaclinic.clinicpolicy.models import LocationPolicy, PolicyChange
from ketaclinic.clinicpolicy.queries import policy_for, policy_version
from ketaclinic.errors import Forbidden, InvalidInput, VersionConflict

if TYPE_CHECKING:
    from conftest import World


def _north() -> ClinicLocation:
    return ClinicLocation.objects.get(slug="north")


def _change(values: dict[str, Any] | None = None, **extra: Any) -> PolicyChangeIn:
    return PolicyChangeIn(values=values or {}, reason=extra.pop("reason", "local protocol"), **extra)


def _admin(world: World) -> User:
    return world.user("admin.north")


def test_policy_for_is_the_defaults_until_a_change_then_the_overrides(world: World) -> None:
    north, south = _north(), ClinicLocation.objects.get(slug="south")
    assert policy_for(north) is DEFAULT_POLICY
    do_change_policy(
        north,
        _change({"madrs_remission_max": 12, "session_bp_alert": {"systolic": 170, "diastolic": 95}}),
        actor=_admin(world),
        expected_version=0,
    )
    policy = policy_for(north)
    assert policy.madrs_remission_max == 12
    assert policy.session_bp_alert == BloodPressure(170, 95)
    assert policy.spo2_alert_below == DEFAULT_POLICY.spo2_alert_below  # the rest stays the default
    assert policy_for(south) is DEFAULT_POLICY  # another location is untouched
    # What a screening keeps is the policy it was judged under, rebuilt unchanged after a later change.
    kept = policy_to_json(policy)
    do_change_policy(north, _change({"madrs_remission_max": 11}), actor=_admin(world), expected_version=1)
    assert policy_for(north).madrs_remission_max == 11
    assert policy_from_json(kept).madrs_remission_max == 12


def test_policy_for_costs_one_query_when_warm_and_is_rebuilt_after_a_change(
    world: World, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    north = _north()
    with django_assert_num_queries(1):
        assert policy_for(north) is DEFAULT_POLICY
    do_change_policy(north, _change({"spo2_alert_below": 92}), actor=_admin(world), expected_version=0)
    with django_assert_num_queries(2):  # the stamp, then the overrides it names
        first = policy_for(north)
    with django_assert_num_queries(1):
        assert policy_for(north) is first  # the same object: built once per change
    do_change_policy(north, _change({"spo2_alert_below": 91}), actor=_admin(world), expected_version=1)
    with django_assert_num_queries(2):
        assert policy_for(north).spo2_alert_below == 91


def test_a_change_is_kept_with_its_reason_old_and_new_values_and_audited(world: World) -> None:
    north, admin = _north(), _admin(world)
    change = do_change_policy(
        north,
        _change({"iv_mg_per_kg_max": "0.8"}, time_zone="America/Denver", reason="Board decision 12"),
        actor=admin,
        expected_version=0,
    )
    assert change.version == 1 and change.reason == "Board decision 12" and change.changed_by == admin
    assert change.changes == {
        "iv_mg_per_kg_max": {"old": "1.0", "new": "0.8"},
        "time_zone": {"old": "America/Los_Angeles", "new": "America/Denver"},
    }
    north.refresh_from_db()
    assert north.time_zone == "America/Denver"
    event = AuditEvent.objects.filter(action=Action.POLICY_CHANGE).get()
    assert event.location_id == north.pk and event.actor_id == admin.pk
    assert event.object_id == str(change.pk) and event.changed_fields == ["iv_mg_per_kg_max", "time_zone"]


def test_reset_puts_a_value_back_to_its_default(world: World) -> None:
    north, admin = _north(), _admin(world)
    do_change_policy(north, _change({"cadss_alert_above": None}), actor=admin, expected_version=0)
    assert policy_for(north).cadss_alert_above is None
    change = do_change_policy(north, _change(reset=["cadss_alert_above"]), actor=admin, expected_version=1)
    assert change.changes == {"cadss_alert_above": {"old": None, "new": 4}}
    assert LocationPolicy.objects.get(location=north).overrides == {}
    assert policy_for(north).cadss_alert_above == 4


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"madrs_remission_max": -1}, "values.madrs_remission_max"),
        ({"madrs_remission_max": "12"}, "values.madrs_remission_max"),
        ({"madrs_remission_max": None}, "values.madrs_remission_max"),  # not optional
        ({"esketamine_maintenance_interval_weeks": 3}, "values.esketamine_maintenance_interval_weeks"),
        ({"iv_mg_per_kg_max": "lots"}, "values.iv_mg_per_kg_max"),
        ({"iv_mg_per_kg_max": "0.05"}, "values.iv_mg_per_kg_max"),  # below the minimum in force
        ({"session_bp_alert": {"systolic": 0, "diastolic": 90}}, "values.session_bp_alert"),
        ({"cssrs_method_band": "none"}, "values.cssrs_method_band"),
        ({"home_ineligible_conditions": ["not_a_condition"]}, "values.home_ineligible_conditions"),
        ({"no_such_value": 1}, "values.no_such_value"),
        ({}, "values"),  # nothing to change
        ({"madrs_remission_max": 10}, "values"),  # the value in force already
    ],
)
def test_a_bad_value_is_refused_naming_it_and_nothing_is_saved(
    world: World, values: dict[str, Any], field: str
) -> None:
    north = _north()
    before = AuditEvent.objects.count()
    with pytest.raises(InvalidInput) as refused:
        do_change_policy(north, _change(values), actor=_admin(world), expected_version=0)
    assert field in refused.value.errors, refused.value.errors
    assert policy_version(north) == 0 and not PolicyChange.objects.exists()
    assert AuditEvent.objects.count() == before
    assert policy_for(north) is DEFAULT_POLICY


def test_a_bound_and_its_partner_may_move_together(world: World) -> None:
    north = _north()
    do_change_policy(
        north,
        _change({"iv_mg_per_kg_min": "1.2", "iv_mg_per_kg_max": "1.5"}),
        actor=_admin(world),
        expected_version=0,
    )
    assert policy_for(north).iv_mg_per_kg_min == Decimal("1.2")


def test_an_unknown_time_zone_is_refused(world: World) -> None:
    with pytest.raises(InvalidInput) as refused:
        do_change_policy(_north(), _change(time_zone="Mars/Olympus"), actor=_admin(world), expected_version=0)
    assert "time_zone" in refused.value.errors
    assert _north().time_zone == "America/Los_Angeles"


def test_two_admins_the_second_with_a_stale_version_is_refused(world: World) -> None:
    north = _north()
    second = do_create_staff(north.network, "admin2.north", "", first_name="Second", password_hash="!")
    do_grant_role(second, north, "clinic_admin")
    do_change_policy(north, _change({"spo2_alert_below": 92}), actor=_admin(world), expected_version=0)
    with pytest.raises(VersionConflict):
        do_change_policy(north, _change({"spo2_alert_below": 90}), actor=second, expected_version=0)
    assert policy_for(north).spo2_alert_below == 92 and PolicyChange.objects.count() == 1


def test_only_a_clinic_admin_of_the_location_changes_its_policy(world: World) -> None:
    with pytest.raises(Forbidden):
        do_change_policy(
            _north(), _change({"spo2_alert_below": 92}), actor=world.user("admin.south"), expected_version=0
        )
    with pytest.raises(Forbidden):
        do_change_policy(
            _north(), _change({"spo2_alert_below": 92}), actor=world.user("nurse.north"), expected_version=0
        )
    assert policy_version(_north()) == 0


# --- API ---------------------------------------------------------------------------------------------------


def _url(location: ClinicLocation) -> str:
    return f"/api/v1/locations/{location.pk}/policy"


def _patch(client: Any, location: ClinicLocation, body: dict[str, Any], etag: str | None) -> Any:
    headers = {"If-Match": etag} if etag is not None else {}
    return client.patch(
        _url(location), data=json.dumps(body), content_type="application/json", headers=headers
    )


def test_api_reads_values_defaults_basis_sources_and_version(world: World) -> None:
    north = _north()
    response = world.api("admin.north").get(_url(north))
    assert response.status_code == 200 and response["ETag"] == '"0"'
    body = response.json()
    assert body["version"] == 0 and body["time_zone"] == "America/Los_Angeles"
    assert body["values"] == body["defaults"] == policy_to_json(DEFAULT_POLICY) and body["overrides"] == {}
    cadss = next(f for f in body["fields"] if f["name"] == "cadss_alert_above")
    assert cadss["basis"] == "unverified" and cadss["sources"] == ["R10a", "R10b"] and cadss["default"] == 4


def test_api_change_needs_if_match_and_refuses_a_stale_one(world: World) -> None:
    north, client = _north(), world.api("admin.north")
    body = {"values": {"madrs_remission_max": 12}, "reason": "local protocol"}
    assert _patch(client, north, body, None).status_code == 428
    assert _patch(client, north, body, '"x"').status_code == 412
    response = _patch(client, north, body, '"0"')
    assert response.status_code == 200, response.content
    assert response["ETag"] == '"1"' and response.json()["overrides"] == {"madrs_remission_max": 12}
    stale = _patch(client, north, {"values": {"madrs_remission_max": 11}, "reason": "again"}, '"0"')
    assert stale.status_code == 412
    assert policy_for(north).madrs_remission_max == 12


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"values": {"spo2_alert_below": 0}, "reason": "x"}, "values.spo2_alert_below"),
        ({"values": {"spo2_alert_below": 92}}, "reason"),
        ({"values": {"spo2_alert_below": 92}, "reason": "   "}, "reason"),
        ({"values": {"spo2_alert_below": 92}, "reason": "a\u0000b"}, "reason"),
        ({"values": {"iv_mg_per_kg_max": "1\u0000"}, "reason": "x"}, "values"),
        ({"values": {"spo2_alert_below": 92}, "reason": "x", "extra": 1}, "extra"),
        ({"time_zone": "Nowhere/At_All", "reason": "x"}, "time_zone"),
        ({"reset": ["nope"], "reason": "x"}, "reset"),
    ],
)
def test_api_refuses_a_bad_change_naming_the_field(world: World, body: dict[str, Any], field: str) -> None:
    north = _north()
    response = _patch(world.api("admin.north"), north, body, '"0"')
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"], response.json()
    assert policy_version(north) == 0


def test_admin_at_one_location_and_nurse_at_the_other(world: World) -> None:
    """Roles are per location: admin at north changes north's policy, and only reads south's page."""
    south = ClinicLocation.objects.get(slug="south")
    do_grant_role(world.user("admin.north"), south, "nurse")
    client, api = world.client("admin.north"), world.api("admin.north")
    body = {"values": {"spo2_alert_below": 92}, "reason": "local protocol"}
    assert _patch(api, south, body, '"0"').status_code == 403
    assert api.get(_url(south)).status_code == 403
    page = client.get(f"/clinic/{south.pk}/")
    assert page.status_code == 200 and b"Save changes" not in page.content
    assert (
        client.post(
            f"/clinic/{south.pk}/", {"version": "0", "reason": "x", "v-spo2_alert_below": "92"}
        ).status_code
        == 403
    )
    assert policy_version(south) == 0
    assert _patch(api, _north(), body, '"0"').status_code == 200


# --- Page ---------------------------------------------------------------------------------------------------


def test_page_shows_each_value_with_default_basis_description_and_sources(world: World) -> None:
    north = _north()
    response = world.client("nurse.north").get(f"/clinic/{north.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "America/Los_Angeles" in html and "unverified" in html and "confirm it locally" in html
    assert 'id="policy-cadss_alert_above"' in html and 'href="#src-R10a"' in html and 'id="src-R10a"' in html
    assert "Save changes" not in html  # read only for a nurse


def test_page_change_and_reset_with_a_reason(world: World) -> None:
    north, client = _north(), world.client("admin.north")
    url = f"/clinic/{north.pk}/"
    form = {
        "version": "0",
        "reason": "Clinical lead approved",
        "time_zone": "America/Los_Angeles",
        "v-spo2_alert_below": "92",
        "v-session_bp_alert-systolic": "170",
        "v-session_bp_alert-diastolic": "95",
        "v-iv_mg_per_kg_max": "1.00",  # the same number as in force: not a change
        "v-home_ineligible_conditions-sent": "1",
        "v-home_ineligible_conditions": ["psychosis_history"],
    }
    response = client.post(url, form)
    assert response.status_code == 302
    change = PolicyChange.objects.get()
    assert set(change.changes) == {"spo2_alert_below", "session_bp_alert", "home_ineligible_conditions"}
    assert policy_for(north).home_ineligible_conditions == frozenset({"psychosis_history"})
    page = client.get(url).content.decode()
    assert "Clinical lead approved" in page and "Reset to default" in page
    response = client.post(url, {"version": "1", "reason": "Back to default", "reset": ["spo2_alert_below"]})
    assert response.status_code == 302
    assert policy_for(north).spo2_alert_below == DEFAULT_POLICY.spo2_alert_below


def test_page_bad_value_is_shown_again_naming_the_field_and_nothing_saved(world: World) -> None:
    north, client = _north(), world.client("admin.north")
    form = {"version": "0", "reason": "try", "v-spo2_alert_below": "ninety", "v-madrs_remission_max": "12"}
    response = client.post(f"/clinic/{north.pk}/", form)
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="e-spo2_alert_below"' in html and 'value="ninety"' in html and 'value="12"' in html
    response = client.post(
        f"/clinic/{north.pk}/", {"version": "0", "reason": "", "v-madrs_remission_max": "12"}
    )
    assert response.status_code == 422 and 'id="e-reason"' in response.content.decode()
    response = client.post(
        f"/clinic/{north.pk}/", {"version": "0", "reason": "x", "v-iv_mg_per_kg_max": "0.01"}
    )
    assert response.status_code == 422 and 'id="e-iv_mg_per_kg_max"' in response.content.decode()
    assert policy_version(north) == 0


def test_page_stale_form_is_refused_and_shows_the_other_admins_values(world: World) -> None:
    north, client = _north(), world.client("admin.north")
    do_change_policy(
        north, _change({"spo2_alert_below": 90}), actor=world.user("admin.north"), expected_version=0
    )
    response = client.post(
        f"/clinic/{north.pk}/", {"version": "0", "reason": "mine", "v-spo2_alert_below": "92"}
    )
    assert response.status_code == 409
    assert "another admin changed this policy" in response.content.decode()
    assert policy_for(north).spo2_alert_below == 90


def test_navigation_links_the_clinic_page_for_clinic_admins_only(world: World) -> None:
    admin_home = world.client("admin.north").get("/rules/").content.decode()
    nurse_home = world.client("nurse.north").get("/rules/").content.decode()
    assert 'href="/clinic/"' in admin_home
    assert 'href="/clinic/"' not in nurse_home
