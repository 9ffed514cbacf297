"""Every page and endpoint against every persona: allowed, wrong role, other location, anonymous.

The target patient lives at north. South staff must get 404 (the patient does not exist for them), a north
role without the permission 403, anonymous users the login page (web) or 401 (API). A denial never
carries the patient's data, and leaves an audit row.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from django.urls import URLPattern, URLResolver

from ketaclinic.assessments.tests import matrix as assessments_matrix
from ketaclinic.assessments.tests import safety_matrix
from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.billing.tests import matrix as billing_matrix
from ketaclinic.homecare.tests import matrix as homecare_matrix
from ketaclinic.ledger.tests import helpers as ledger_helpers
from ketaclinic.ledger.tests import matrix as ledger_matrix
from ketaclinic.patients.actions import HistoryInput
from ketaclinic.patients.models import AllergyCategory, BodyMeasurement, Patient, Substance, UseStatus
from ketaclinic.patients.sections import SECTIONS
from ketaclinic.rems.tests import matrix as rems_matrix
from ketaclinic.scheduling.tests import matrix as scheduling_matrix
from ketaclinic.therapy.tests import matrix as therapy_matrix
from ketaclinic.treatment.tests import matrix as treatment_matrix

if TYPE_CHECKING:
    from _pytest.mark import ParameterSet
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

    from conftest import World

READERS = {"prescriber", "nurse", "therapist", "frontdesk"}
WRITERS = {"prescriber", "nurse", "frontdesk"}
ADMINS = {"admin"}
ROLES = ("admin", "prescriber", "nurse", "therapist", "frontdesk")

TRIAL: dict[str, Any] = {
    "drug": "sertraline",
    "max_daily_dose_mg": "150",
    "weeks_at_dose": "8",
    "adequate_dose": True,
    "outcome": "none",
    "current_episode": True,
}

# (name, method, url template, body, allowed roles, scoped to the patient's location, API?)
Route = tuple[str, str, str, dict[str, Any] | str | None, set[str], bool, bool]
ROUTES: list[Route] = [
    ("patient list page", "get", "/patients/", None, READERS, False, False),
    ("patient search", "post", "/patients/", {"q": "a"}, READERS, False, False),
    ("intake form", "get", "/patients/new/", None, WRITERS, False, False),
    ("register page", "post", "/patients/new/", "create", WRITERS, False, False),
    ("intake row", "get", "/patients/new/rows/antidepressant_trials/3/", None, WRITERS, False, False),
    ("chart page", "get", "/patients/{pid}/", None, READERS, True, False),
    ("edit page", "get", "/patients/{pid}/edit/", None, WRITERS, True, False),
    (
        "entered in error page",
        "post",
        "/patients/{pid}/entered-in-error/",
        {"reason": "registered twice"},
        WRITERS,
        True,
        False,
    ),
    ("chart add form", "get", "/patients/{pid}/forms/antidepressant_trials/", None, WRITERS, True, False),
    ("add condition", "post", "/patients/{pid}/conditions/", {"code": "hypertension"}, WRITERS, True, False),
    ("add measurement", "post", "/patients/{pid}/measurements/", {"weight_kg": "70"}, WRITERS, True, False),
    ("audit review", "get", "/audit/", None, ADMINS, False, False),
    ("rules page", "get", "/rules/", None, set(ROLES), False, False),
    ("own two-step sign-in page", "get", "/mfa/", None, set(ROLES), False, False),
    ("staff two-step sign-in page", "get", "/mfa/staff/", None, ADMINS, False, False),
    ("api list", "get", "/api/v1/patients", None, READERS, False, True),
    ("api search", "post", "/api/v1/patients/search", {"q": "a"}, READERS, False, True),
    ("api create", "post", "/api/v1/patients", "create", WRITERS, False, True),
    ("api read", "get", "/api/v1/patients/{pid}", None, READERS, True, True),
    ("api update", "patch", "/api/v1/patients/{pid}", {"phone": "555-0000"}, WRITERS, True, True),
    (
        "api entered in error",
        "post",
        "/api/v1/patients/{pid}/entered-in-error",
        {"reason": "registered twice"},
        WRITERS,
        True,
        True,
    ),
    ("api conditions", "get", "/api/v1/patients/{pid}/conditions", None, READERS, True, True),
    (
        "api add condition",
        "post",
        "/api/v1/patients/{pid}/conditions",
        {"code": "hypertension"},
        WRITERS,
        True,
        True,
    ),
    ("api medications", "get", "/api/v1/patients/{pid}/medications", None, READERS, True, True),
    (
        "api add medication",
        "post",
        "/api/v1/patients/{pid}/medications",
        {"drug": "lamotrigine"},
        WRITERS,
        True,
        True,
    ),
    ("api allergies", "get", "/api/v1/patients/{pid}/allergies", None, READERS, True, True),
    (
        "api add allergy",
        "post",
        "/api/v1/patients/{pid}/allergies",
        {"substance": "Latex", "category": "environment"},
        WRITERS,
        True,
        True,
    ),
    ("api trials", "get", "/api/v1/patients/{pid}/antidepressant_trials", None, READERS, True, True),
    ("api add trial", "post", "/api/v1/patients/{pid}/antidepressant_trials", TRIAL, WRITERS, True, True),
    ("api substance use", "get", "/api/v1/patients/{pid}/substance_use", None, READERS, True, True),
    (
        "api add substance use",
        "post",
        "/api/v1/patients/{pid}/substance_use",
        {"substance": "alcohol", "use_status": "past"},
        WRITERS,
        True,
        True,
    ),
    (
        "entry status page",
        "post",
        "/patients/{pid}/antidepressant_trials/{antidepressant_trials}/status/",
        {"status": "resolved"},
        WRITERS,
        True,
        False,
    ),
    (
        "api condition status",
        "patch",
        "/api/v1/patients/{pid}/conditions/{conditions}",
        {"status": "resolved"},
        WRITERS,
        True,
        True,
    ),
    (
        "api medication status",
        "patch",
        "/api/v1/patients/{pid}/medications/{medications}",
        {"status": "resolved"},
        WRITERS,
        True,
        True,
    ),
    (
        "api allergy status",
        "patch",
        "/api/v1/patients/{pid}/allergies/{allergies}",
        {"status": "entered_in_error", "reason": "wrong patient"},
        WRITERS,
        True,
        True,
    ),
    (
        "api substance use status",
        "patch",
        "/api/v1/patients/{pid}/substance_use/{substance_use}",
        {"status": "resolved"},
        WRITERS,
        True,
        True,
    ),
    (
        "api trial status",
        "patch",
        "/api/v1/patients/{pid}/antidepressant_trials/{antidepressant_trials}",
        {"status": "resolved"},
        WRITERS,
        True,
        True,
    ),
    (
        "api add measurement",
        "post",
        "/api/v1/patients/{pid}/measurements",
        {"height_cm": "170"},
        WRITERS,
        True,
        True,
    ),
]

# A location's clinic policy and chairs (ketaclinic/clinicpolicy): every staff member of the location reads
# the pages and the chairs; its clinic admins change them, and alone read the policy through the API.
LOCATION, API_LOCATION = "/clinic/{location_id}", "/api/v1/locations/{location_id}"
POLICY_FORM = {"version": "0", "reason": "local protocol", "v-madrs_remission_max": "12"}
POLICY_CHANGE = {"values": {"madrs_remission_max": 12}, "reason": "local protocol"}
ROUTES += [
    ("clinic index page", "get", "/clinic/", None, set(ROLES), False, False),
    ("clinic policy page", "get", f"{LOCATION}/", None, set(ROLES), True, False),
    ("clinic policy change", "post", f"{LOCATION}/", POLICY_FORM, ADMINS, True, False),
    ("chairs page", "get", f"{LOCATION}/chairs/", None, set(ROLES), True, False),
    ("add chair page", "post", f"{LOCATION}/chairs/", {"name": "Chair 99"}, ADMINS, True, False),
    (
        "change chair page",
        "post",
        f"{LOCATION}/chairs/{{chair_id}}/",
        {"name": "Chair 77", "version": "1"},
        ADMINS,
        True,
        False,
    ),
    ("api read policy", "get", f"{API_LOCATION}/policy", None, ADMINS, True, True),
    ("api change policy", "patch", f"{API_LOCATION}/policy", POLICY_CHANGE, ADMINS, True, True),
    ("api chairs", "get", f"{API_LOCATION}/chairs", None, set(ROLES), True, True),
    ("api add chair", "post", f"{API_LOCATION}/chairs", {"name": "Chair 99"}, ADMINS, True, True),
    ("api read chair", "get", f"{API_LOCATION}/chairs/{{chair_id}}", None, set(ROLES), True, True),
    (
        "api change chair",
        "patch",
        f"{API_LOCATION}/chairs/{{chair_id}}",
        {"name": "Chair 77"},
        ADMINS,
        True,
        True,
    ),
]
# The ETag a PATCH sends as If-Match, by route (otherwise the patient's).
ETAGS = {"api change policy": '"0"', "api change chair": '"1"'}


def _places(patient: Patient) -> dict[str, int]:
    """The patient's location and its first chair, for the clinic routes."""
    from ketaclinic.clinicpolicy.models import Chair

    chair = Chair.objects.filter(location_id=patient.location_id).order_by("pk").first()
    assert chair is not None
    return {"location_id": patient.location_id, "chair_id": chair.pk}


# Spravato REMS: the certified-setting details of a location (clinic admins of that location).
REMS_SETTING: dict[str, Any] = {
    "location": "north",
    "version": 1,  # the demo's details
    "setting_name": "North Clinic",
    "address": "1 Harbour Way",
    "certification_id": "SPR-N-0001",
    "authorised_representative": "Dr Avery Stone",
}
ROUTES += [
    ("rems settings page", "get", "/rems/settings/", None, ADMINS, False, False),
    ("rems setting page", "get", "/rems/settings/north/", None, ADMINS, True, False),
    ("api rems settings", "get", "/api/v1/rems/settings", None, ADMINS, False, True),
    ("api save rems setting", "post", "/api/v1/rems/settings", REMS_SETTING, ADMINS, True, True),
]

# The treatment-floor board of a location (its staff who read patients).
ROUTES += [
    ("floor board page", "get", "/floor/?location=north", None, READERS, True, False),
    ("api floor board", "get", "/api/v1/floor?location=north", None, READERS, True, True),
]

# Screening, REMS enrolment and consent (ketaclinic/screening, ketaclinic/consent). "{screening}" is a
# screening of the target patient with a finding to acknowledge; "consent" a body signing the current
# document of the patient's location in the patient's name.
PRESCRIBERS = {"prescriber"}
WITNESSES = {"prescriber", "nurse"}
ROUTES += [
    (
        "api run screening",
        "post",
        "/api/v1/patients/{pid}/screenings",
        {"modality": "iv_ketamine"},
        PRESCRIBERS,
        True,
        True,
    ),
    ("api read screening", "get", "/api/v1/screenings/{screening}", None, READERS, True, True),
    (
        "api acknowledge",
        "post",
        "/api/v1/screenings/{screening}/acknowledgements",
        {"rule_id": "ELIG-ALL-ACK-PSYCHOSIS", "reason": "Stable for ten years; discussed."},
        PRESCRIBERS,
        True,
        True,
    ),
    (
        "api rems enrolment",
        "post",
        "/api/v1/patients/{pid}/rems-enrolment",
        {"enrolled_on": "2026-01-05", "rems_patient_id": "SPR-1"},
        PRESCRIBERS,
        True,
        True,
    ),
    ("api consent documents", "get", "/api/v1/consent-documents", None, READERS | ADMINS, False, True),
    ("api sign consent", "post", "/api/v1/patients/{pid}/consents", "consent", WITNESSES, True, True),
    ("screenings page", "get", "/screening/patients/{pid}/", None, READERS, True, False),
    ("chart screening panel", "get", "/screening/patients/{pid}/panel/", None, READERS, True, False),
    (
        "run screening page",
        "post",
        "/screening/patients/{pid}/run/",
        {"modality": "iv_ketamine"},
        PRESCRIBERS,
        True,
        False,
    ),
    (
        "rems enrolment page",
        "post",
        "/screening/patients/{pid}/rems-enrolment/",
        {"enrolled_on": "2026-01-05", "rems_patient_id": "SPR-1"},
        PRESCRIBERS,
        True,
        False,
    ),
    ("screening page", "get", "/screening/patients/{pid}/{screening}/", None, READERS, True, False),
    (
        "acknowledge page",
        "post",
        "/screening/patients/{pid}/{screening}/acknowledge/",
        {"rule_id": "ELIG-ALL-ACK-PSYCHOSIS", "reason": "Stable for ten years; discussed."},
        PRESCRIBERS,
        True,
        False,
    ),
    ("consent documents page", "get", "/consent/documents/", None, ADMINS, False, False),
    ("publish consent document form", "get", "/consent/documents/new/", None, ADMINS, False, False),
    ("consent document page", "get", "/consent/documents/{document}/", None, ADMINS, True, False),
    ("patient consents page", "get", "/consent/patients/{pid}/", None, READERS, True, False),
    ("consent signing page", "get", "/consent/patients/{pid}/sign/{document}/", None, WITNESSES, True, False),
    (
        "consent signing",
        "post",
        "/consent/patients/{pid}/sign/{document}/",
        "consent page",
        WITNESSES,
        True,
        False,
    ),
]

# The patient portal's staff side (ketaclinic/portal): whoever writes the patient's contact details invites
# the patient from the chart. The portal's own pages (patients only) have their matrix in
# portal/tests/test_portal_access.py.
ROUTES += [
    ("portal invite page", "get", "/portal-staff/invite/{pid}/", None, WRITERS, True, False),
    (
        "portal invite",
        "post",
        "/portal-staff/invite/{pid}/",
        {"email": "matrix@example.org"},
        WRITERS,
        True,
        False,
    ),
]

# A location's preparation instructions for patients (ketaclinic/portal): every staff member of the location
# reads them; its clinic admins word the IV and IM ones.
ROUTES += [
    (
        "portal preparation page",
        "get",
        "/portal-staff/preparation/{location_id}/",
        None,
        set(ROLES),
        True,
        False,
    ),
    (
        "portal preparation change",
        "post",
        "/portal-staff/preparation/{location_id}/",
        {"modality": "iv_ketamine", "text": "No food for 6 hours.", "version": "0"},
        ADMINS,
        True,
        False,
    ),
]

# The controlled-substance ledger (ketaclinic/ledger): clinicians record, a clinic admin reads; the event
# is a pending waste at north recorded by someone who is none of the personas.
LEDGER_READERS = {"admin", "prescriber", "nurse"}
LEDGER_WRITERS = {"prescriber", "nurse"}
ROUTES += [
    ("api ledger balances", "get", "/api/v1/ledger/balances", None, LEDGER_READERS, False, True),
    ("api ledger events", "get", "/api/v1/ledger/events", None, LEDGER_READERS, False, True),
    ("api ledger record", "post", "/api/v1/ledger/events", "ledger", LEDGER_WRITERS, False, True),
    ("api ledger event", "get", "/api/v1/ledger/events/{ledger_waste}", None, LEDGER_READERS, True, True),
    ("ledger page", "get", "/ledger/", None, LEDGER_READERS, False, False),
    ("ledger events page", "get", "/ledger/events/", None, LEDGER_READERS, False, False),
    ("ledger record form", "get", "/ledger/record/receive/", None, LEDGER_WRITERS, False, False),
    ("ledger record", "post", "/ledger/record/receive/", "ledger", LEDGER_WRITERS, False, False),
    (
        "ledger witness page",
        "get",
        "/ledger/events/{ledger_waste}/witness/",
        None,
        LEDGER_WRITERS,
        True,
        False,
    ),
    ("ledger report page", "get", "/ledger/report/", None, LEDGER_READERS, False, False),
    ("ledger report", "post", "/ledger/report/", "ledger_report", LEDGER_READERS, False, False),
    (
        "api ledger witness",
        "post",
        "/api/v1/ledger/events/{ledger_waste}/witness",
        {},
        LEDGER_WRITERS,
        True,
        True,
    ),
]
# The REMS form, its submission and the queue (ketaclinic/rems/tests/matrix.py prepares each route's state).
ROUTES += rems_matrix.ROUTES
# Theft and loss reports and a breakage (ketaclinic/ledger/tests/matrix.py prepares {loss} and the stock).
ROUTES += ledger_matrix.ROUTES

# Reading one entry of each section, and the measurements history.
ROUTES += [
    (f"api read one {key}", "get", f"/api/v1/patients/{{pid}}/{key}/{{{key}}}", None, READERS, True, True)
    for key in (*SECTIONS, "measurements")
]
ROUTES.append(("api measurements", "get", "/api/v1/patients/{pid}/measurements", None, READERS, True, True))
# Treatment plans and sessions (ketaclinic/treatment/tests/matrix.py prepares each route's state).
ROUTES += treatment_matrix.ROUTES
# Assessments, trends and episodes (ketaclinic/assessments/tests/matrix.py prepares each route's state).
ROUTES += assessments_matrix.ROUTES
# Safety alerts, safety plans and the clinician worklist (ketaclinic/assessments/tests/safety_matrix.py).
ROUTES += safety_matrix.ROUTES
# The calendar: chairs, the schedule, bookings, courses and resources (ketaclinic/scheduling/tests/matrix.py).
ROUTES += scheduling_matrix.ROUTES
# At-home programs: the program, its doses, status and a hold's release (ketaclinic/homecare/tests/matrix.py).
ROUTES += homecare_matrix.ROUTES
# The care team, therapy sessions and notes (ketaclinic/therapy/tests/matrix.py prepares each route's state).
ROUTES += therapy_matrix.ROUTES
# Assessment requests: a one-off request with its self-report link (the link's own pages are public and
# have their own tests: assessments/tests/test_selfreport.py).
ASSESSMENT_REQUESTERS = {"prescriber", "nurse", "therapist"}
ROUTES += [
    (
        "api request assessment",
        "post",
        "/api/v1/patients/{pid}/assessment-requests",
        {"instrument": "phq9", "channel": "none"},
        ASSESSMENT_REQUESTERS,
        True,
        True,
    ),
    (
        "questionnaire requests page",
        "get",
        "/assessments/patients/{pid}/requests/",
        None,
        READERS,
        True,
        False,
    ),
    (
        "send a questionnaire page",
        "post",
        "/assessments/patients/{pid}/requests/",
        {"instrument": "gad7", "channel": "none"},
        ASSESSMENT_REQUESTERS,
        True,
        False,
    ),
    (
        "api read assessment request",
        "get",
        "/api/v1/patients/{pid}/assessment-requests/{assessment_request}",
        None,
        READERS,
        True,
        True,
    ),
]

# Costs and billing (ketaclinic/billing/tests/matrix.py prepares each route's state): money is the front
# desk's, the price list a clinic admin's; nurses and therapists see none of it.
ROUTES += billing_matrix.ROUTES
# Outcome analytics: aggregates for clinic admins and prescribers; a location is chosen by slug (its own
# denials are in ketaclinic/outcomes/tests/test_access.py).
OUTCOME_READERS = {"admin", "prescriber"}
ROUTES += [
    ("api outcomes", "get", "/api/v1/outcomes?instrument=phq9", None, OUTCOME_READERS, False, True),
    ("outcomes page", "get", "/outcomes/?instrument=phq9", None, OUTCOME_READERS, False, False),
    ("outcomes csv", "get", "/outcomes/report.csv?instrument=phq9", None, OUTCOME_READERS, False, False),
]

_mrn = iter(range(800000, 900000))


def _entries(patient: Patient) -> dict[str, int]:
    """One active entry of each kind on the target patient, added through the actions."""
    from ketaclinic.patients import actions, inputs

    author = patient.created_by
    made: dict[str, HistoryInput] = {
        "conditions": inputs.ConditionIn(code="hypertension"),
        "medications": inputs.MedicationIn(drug="lamotrigine"),
        "allergies": inputs.AllergyIn(substance="Latex", category=AllergyCategory.ENVIRONMENT),
        "substance_use": inputs.SubstanceUseIn(substance=Substance.TOBACCO, use_status=UseStatus.PAST),
        "antidepressant_trials": inputs.TrialIn(**TRIAL),
    }
    assert made.keys() == SECTIONS.keys()
    ids = {key: actions.do_add_history_entry(patient, data, actor=author).pk for key, data in made.items()}
    measurement = inputs.MeasurementIn(weight_kg=Decimal("70"))
    ids["measurements"] = actions.do_record_measurement(patient, measurement, actor=author).pk
    return ids


def _screening(patient: Patient) -> int:
    """A screening of the patient with a finding to acknowledge (a recorded history of psychosis); the
    same one when asked again (a replayed request finds what the first one did)."""
    from ketaclinic.screening.models import Screening
    from ketaclinic.screening.tests import helpers

    made = Screening.objects.filter(patient=patient).first()
    if made is not None:
        return made.pk
    helpers.add_condition(patient, "psychosis_history")
    return helpers.screen(patient, "iv_ketamine").pk


def _consent_body(patient: Patient) -> dict[str, Any]:
    from ketaclinic.consent.queries import current_document
    from ketaclinic.screening.tests import helpers

    document = current_document(patient.location_id, "iv_ketamine") or helpers.document(
        patient.location.slug, "iv_ketamine"
    )
    return {"document_id": document.pk, "signed_name": f"{patient.given_name} {patient.family_name}"}


def _assessment_request(patient: Patient) -> int:
    """A one-off request of the patient's, made through the action."""
    from ketaclinic.accounts.models import User
    from ketaclinic.assessments.actions import do_request_assessment
    from ketaclinic.assessments.inputs import AssessmentRequestIn

    actor = User.objects.get(username="nurse.north")
    made, _ = do_request_assessment(patient, AssessmentRequestIn(instrument="gad7"), actor=actor)
    return made.pk


def _call(world: World, who: str | None, route: Route, patient: Patient) -> TestResponse:
    name, method, url, body, _, _, is_api = route
    areas: tuple[Any, ...] = (
        treatment_matrix,
        rems_matrix,
        assessments_matrix,
        safety_matrix,
        ledger_matrix,
        billing_matrix,
        scheduling_matrix,
        homecare_matrix,
        therapy_matrix,
    )
    area = next((m for m in areas if name in m.NAMES), None)
    if area is not None:
        client = world.api(who) if is_api else world.client(who)

        def send(target: str, data: Any) -> TestResponse:
            kwargs: dict[str, Any] = {}
            if is_api and data is not None:
                kwargs = {"data": json.dumps(data), "content_type": "application/json"}
            elif not is_api:
                kwargs = {"data": data or {}}
            response: TestResponse = getattr(client, method)(target, **kwargs)
            return response

        if area is therapy_matrix:  # a note is signed by its author: the caller, when they may write one
            therapy: TestResponse = therapy_matrix.call(route, patient, send, who)
            return therapy
        result: TestResponse = area.call(route, patient, send)
        return result
    if "{screening}" in url:
        url = url.replace("{screening}", str(_screening(patient)))
    if "{document}" in url:
        url = url.replace("{document}", str(_consent_body(patient)["document_id"]))
    if body == "consent":
        body = _consent_body(patient)
    if body == "consent page":
        body = {"signed_name": _consent_body(patient)["signed_name"], "witness_confirmed": "on"}
    if "{ledger_waste}" in url:
        url = url.replace("{ledger_waste}", str(ledger_helpers.matrix_waste()))
    if "{assessment_request}" in url:
        url = url.replace("{assessment_request}", str(_assessment_request(patient)))
    if "{pid}/" in url and "}" in url.split("{pid}/", 1)[1]:
        url = url.format(pid=patient.pk, **_entries(patient))
    url = url.format(pid=patient.pk, **_places(patient))
    location = who.split(".")[1] if who else "north"
    if body == "create":
        body = {
            "location": location,
            "given_name": "Zed",
            "family_name": "Matrix",
            "date_of_birth": "1990-01-01",
            "sex": "male",
        }
    if body == "ledger":
        body = ledger_helpers.matrix_receipt(location)
    if body == "ledger_report":
        body = ledger_helpers.matrix_report(location)
    if is_api:
        client = world.api(who)
        headers = {"If-Match": ETAGS.get(name, f'"{patient.version}"')} if method == "patch" else {}
        kwargs = {"data": json.dumps(body), "content_type": "application/json"} if body is not None else {}
        response: TestResponse = getattr(client, method)(url, headers=headers, **kwargs)
        return response
    client = world.client(who)
    response = getattr(client, method)(url, body or {})
    return response


def _cases() -> Iterator[ParameterSet]:
    for route in ROUTES:
        for role in ROLES:
            for location in ("north", "south"):
                yield pytest.param(route, f"{role}.{location}", id=f"{route[0]}-{role}.{location}")
        yield pytest.param(route, None, id=f"{route[0]}-anonymous")


@pytest.mark.parametrize(("route", "who"), list(_cases()))
def test_access(world: World, route: Route, who: str | None) -> None:
    name, _, _, _, allowed, scoped, is_api = route
    patient = world.patient("north")
    denials_before = AuditEvent.objects.filter(outcome=Outcome.DENIED).count()
    response = _call(world, who, route, patient)
    status = response.status_code

    if who is None:
        assert status == (401 if is_api else 302), name
        if not is_api:
            assert response["Location"].startswith("/login/")
        return
    role, location = who.split(".")
    if role not in allowed:
        assert status == 403, (name, who, status)
    elif scoped and location != patient.location.slug:
        assert status == 404, (name, who, status)
    else:
        assert status in (200, 201, 302), (name, who, status, response.content[:300])
        return
    assert patient.family_name.encode() not in response.content
    assert patient.mrn.encode() not in response.content
    assert AuditEvent.objects.filter(outcome=Outcome.DENIED).count() == denials_before + 1


def _pages_read() -> Iterator[ParameterSet]:
    for route in ROUTES:
        name, method, _, _, allowed, _, is_api = route
        if method == "get" and not is_api:
            who = next(f"{role}.north" for role in ROLES if role in allowed)
            yield pytest.param(route, who, id=name)


@pytest.mark.parametrize(("route", "who"), list(_pages_read()))
def test_no_page_gives_two_elements_one_id(world: World, route: Route, who: str) -> None:
    """A label, an error summary's link and a script find an element by its id: two with one id send them
    to the wrong field (two forms on a page with a field of the same name, say)."""
    response = _call(world, who, route, world.patient("north"))
    if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
        return
    ids = re.findall(r'\sid="([^"]+)"', response.content.decode())
    assert sorted({i for i in ids if ids.count(i) > 1}) == [], route[0]


def test_every_api_route_is_in_the_matrix() -> None:
    """A new endpoint fails here until it has allowed and denied cases above."""
    import re

    from ketaclinic.api.app import api

    def normal(path: str) -> str:
        return re.sub(r"\{(?!pid\}|patient_id\})\w+\}", "{entry_id}", path).replace("{pid}", "{patient_id}")

    covered = {(r[1].upper(), normal(r[2].split("?")[0])) for r in ROUTES if r[6]}
    schema = api.get_openapi_schema()
    served = {
        (method.upper(), normal(path))
        for path, operations in schema["paths"].items()
        for method in operations
    }
    assert served - covered == set()


RECORD_ROUTES = [
    *[
        ("get", f"/api/v1/patients/{{pid}}/{key}/{{entry}}", None, True)
        for key in (*SECTIONS, "measurements")
    ],
    *[
        ("patch", f"/api/v1/patients/{{pid}}/{key}/{{entry}}", {"status": "resolved"}, True)
        for key in SECTIONS
    ],
    *[
        ("post", f"/patients/{{pid}}/{key}/{{entry}}/status/", {"status": "resolved"}, False)
        for key in SECTIONS
    ],
]


@pytest.mark.parametrize(("method", "url", "body", "is_api"), RECORD_ROUTES)
def test_another_patients_entry_is_not_found_under_a_patient_the_user_may_see(
    world: World, method: str, url: str, body: dict[str, str] | None, is_api: bool
) -> None:
    """The id of another patient's entry, put under a patient the nurse may write, finds nothing; the
    attempt is in the audit trail, under the patient asked for and naming the entry asked for."""
    mine, other = world.patient("north", 0), world.patient("north", 1)
    key = url.split("/")[-2] if is_api else url.split("/")[-4]
    entry = _entries(other)[key]
    target = url.format(pid=mine.pk, entry=entry)
    client = world.api("nurse.north") if is_api else world.client("nurse.north")
    last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    if is_api:
        kwargs = {"data": json.dumps(body), "content_type": "application/json"} if body else {}
        response = getattr(client, method)(target, **kwargs)
    else:
        response = getattr(client, method)(target, body)
    assert response.status_code == 404
    assert other.family_name.encode() not in response.content
    events = AuditEvent.objects.filter(seq__gt=last)
    assert [(e.action, e.outcome, e.patient_id, e.object_id) for e in events] == [
        ("access.denied", Outcome.DENIED, mine.pk, str(entry))
    ]
    assert events[0].object_type == (SECTIONS[key].model if key in SECTIONS else BodyMeasurement).__name__
    if body:
        model = SECTIONS[key].model
        assert model._default_manager.get(pk=entry).status == "active"  # nothing changed


def test_a_reader_at_one_location_and_writer_at_another_may_only_read_here(world: World) -> None:
    """Roles are per location: a therapist here who is a nurse elsewhere reads this chart, never writes it."""
    from ketaclinic.accounts.actions import do_grant_role
    from ketaclinic.accounts.models import ClinicLocation

    user = world.user("therapist.north")
    south = ClinicLocation.objects.get(slug="south")
    do_grant_role(user, south, "nurse", actor=world.user("admin.south"))
    north_patient, south_patient = world.patient("north"), world.patient("south")
    client = world.client("therapist.north")
    assert client.get(f"/patients/{north_patient.pk}/").status_code == 200
    assert (
        client.post(f"/patients/{north_patient.pk}/conditions/", {"code": "hypertension"}).status_code == 403
    )
    response = client.post(f"/patients/{south_patient.pk}/conditions/", {"code": "hypertension"})
    assert response.status_code == 302
    assert south_patient.conditions.filter(code="hypertension", status="active").exists()
    assert not north_patient.conditions.filter(code="hypertension", status="active").exists()


# Pages outside the matrix, each with its own tests: signing in and out (the admin site's too, the same
# views: accounts/tests/test_signin.py), what a role-less account sees, and the second step of signing in
# and the reset of a staff member's (accounts/tests/test_mfa.py).
WEB_EXEMPT = {
    "web:login",
    "web:logout",
    "admin_login",
    "admin_logout",
    "web:home",
    "web:no_access",
    "mfa:verify",
    "mfa:enrol",
    "mfa:reset",
}

# The calendar's public pages (a patient's visit and offer links, a staff member's feed): the secret is
# the key.
WEB_EXEMPT |= scheduling_matrix.PUBLIC

# The areas whose pages this matrix covers (staff, emergency and the admin site have their own matrices).
COVERED_NAMESPACES = {
    "patients",
    "audit",
    "web",
    "mfa",
    "clinicpolicy",
    "screening",
    "consent",
    "ledger",
    "rems",
    "treatment",
    "floor",
    "portal_staff",
    "assessments",
    "safety",
    "billing",
    "scheduling",
    "homecare",
    "therapy",
    "outcomes",
}
# The ids other than the patient's that the routes above name, filled in by _call.
PLACEHOLDERS = ("location_id", "chair_id", "screening", "document", "ledger_waste")


def test_every_web_page_is_in_the_matrix() -> None:
    """A new page fails here until it has allowed and denied cases above."""
    import uuid

    from django.urls import get_resolver, resolve

    def names(patterns: list[URLPattern | URLResolver], prefix: str = "") -> Iterator[str]:
        for p in patterns:
            if isinstance(p, URLResolver):
                if p.namespace in COVERED_NAMESPACES:
                    yield from names(p.url_patterns, p.namespace + ":")
            else:
                assert p.name is not None, p  # every page has a name
                yield prefix + p.name

    served = set(names(get_resolver().url_patterns))
    covered = {
        resolve(
            r[2]
            .split("?")[0]
            .format(
                pid=uuid.uuid4(),
                **dict.fromkeys(
                    (
                        *SECTIONS,
                        "measurements",
                        "location_id",
                        "chair_id",
                        "screening",
                        "document",
                        "ledger_waste",
                    ),
                    1,
                ),
                **treatment_matrix.SAMPLE_IDS,
                **assessments_matrix.SAMPLE_IDS,
                safety_plan=1,
                **ledger_matrix.SAMPLE_IDS,
                **billing_matrix.SAMPLE_IDS,
                **scheduling_matrix.SAMPLE_IDS,
                **therapy_matrix.SAMPLE_IDS,
            )
        ).view_name
        for r in ROUTES
        if not r[6]
    }
    assert served - covered - WEB_EXEMPT == set()


@pytest.mark.parametrize("entry_id", ["999999", str(2**63), "9" * 80])
def test_an_entry_id_that_names_no_row_is_not_found_and_audited(world: World, entry_id: str) -> None:
    """Ids past any row (past a 64-bit key, longer than the audit row's object column) answer 404, never
    a database error; the audit row names the patient, and the id only when a row could have it."""
    patient = world.patient("north")
    api, page = world.api("nurse.north"), world.client("nurse.north")
    last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    assert api.get(f"/api/v1/patients/{patient.pk}/conditions/{entry_id}").status_code == 404
    assert (
        page.post(f"/patients/{patient.pk}/conditions/{entry_id}/status/", {"status": "resolved"}).status_code
        == 404
    )
    events = AuditEvent.objects.filter(seq__gt=last)
    shown = entry_id if int(entry_id) < 2**63 else ""
    assert [(e.action, e.patient_id, e.object_id) for e in events] == 2 * [
        ("access.denied", patient.pk, shown)
    ]
