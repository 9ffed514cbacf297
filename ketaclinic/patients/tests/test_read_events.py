"""Every answer that carries a patient's data writes its read event: one, for that patient.

The routes are found, not listed by hand: every page of the patients, audit and web areas (by URL name) and
every operation of the API with each answer it documents that is not an error (from the OpenAPI document)
must have a case below, so a new route, or a new kind of answer, fails here until it is walked. Each case is
one request as a nurse (or an admin, for the trail) and says what its answer shows:

- "read": one patient's record (a page, a refused form shown on the chart, an API answer, a write's
  answer that carries the record): exactly one PATIENT_READ event, for that patient, and no list event;
- "list": patients found by a list or a search: exactly one list or search event, and no read;
- "audit": the audit trail: exactly one review or export event;
- "none": no patient data at all, which the test checks: no MRN, none of the patient's names or planted
  note, and no read, list or review event.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from ketaclinic.assessments.tests import safety_matrix
from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.billing.tests import matrix as billing_matrix
from ketaclinic.homecare.tests import matrix as homecare_matrix
from ketaclinic.ledger.tests import helpers as ledger_helpers
from ketaclinic.ledger.tests import matrix as ledger_matrix
from ketaclinic.patients import actions, inputs
from ketaclinic.patients.models import Patient
from ketaclinic.patients.sections import SECTIONS
from ketaclinic.patients.tests.test_access_matrix import TRIAL, _entries
from ketaclinic.scheduling.tests import matrix as scheduling_matrix
from ketaclinic.therapy.tests import matrix as therapy_matrix
from ketaclinic.treatment.tests import matrix as treatment_matrix

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

    from conftest import World

Kind = Literal["read", "list", "audit", "none"]
Body = dict[str, Any] | Callable[[Patient], dict[str, Any]] | None

GIVEN, FAMILY, NOTE = "Ylandrith", "Quorvexa", "Notemarkqz"
MRN = re.compile(rb"KC-\d{6}")
READ_ACTIONS = {Action.PATIENT_READ}
LIST_ACTIONS = {Action.PATIENT_LIST, Action.PATIENT_SEARCH}
AUDIT_ACTIONS = {Action.AUDIT_READ, Action.AUDIT_EXPORT}
API = "/api/v1/patients"


@dataclass(frozen=True)
class Case:
    """One request: `route` is a URL name (pages) or "METHOD /path" of the OpenAPI document (API)."""

    route: str
    method: str
    url: str  # {pid}: the patient; {entry}: one of their entries of the URL's section
    body: Body
    status: int
    kind: Kind
    who: str | None = "nurse.north"
    etag: str | None = None  # If-Match of a PATCH, when not the patient's version

    @property
    def is_api(self) -> bool:
        return self.url.startswith("/api/")

    def label(self) -> str:
        return f"{self.route} {self.status} {self.kind}"


def _edit(version_offset: int = 0, **changes: str) -> Callable[[Patient], dict[str, Any]]:
    """The demographics form as the edit page sends it, for the patient's version (less `version_offset`)."""

    def body(p: Patient) -> dict[str, Any]:
        return {
            "version": str(p.version - version_offset),
            "given_name": p.given_name,
            "family_name": p.family_name,
            "date_of_birth": p.date_of_birth.isoformat(),
            "sex": p.sex,
            "pregnancy_status": p.pregnancy_status,
            **changes,
        }

    return body


def _same_person(p: Patient) -> dict[str, Any]:
    """A registration with the patient's name and date of birth: a possible duplicate."""
    return {
        "location": "north",
        "given_name": p.given_name,
        "family_name": p.family_name,
        "date_of_birth": p.date_of_birth.isoformat(),
        "sex": p.sex,
    }


NEW = {"given_name": "Nova", "family_name": "Newcomer", "date_of_birth": "1991-02-03", "sex": "female"}
ADD: dict[str, dict[str, Any]] = {
    "conditions": {"code": "heart_failure"},
    "medications": {"drug": "lamotrigine"},
    "allergies": {"substance": "Latex", "category": "environment"},
    "substance_use": {"substance": "alcohol", "use_status": "past"},
    "antidepressant_trials": TRIAL,
    "measurements": {"height_cm": "170"},
}
PID, ENTRY, LID, CHAIR = "{pid}", "{entry}", "{lid}", "{chair}"

PAGES: list[Case] = [
    Case("patients:list", "get", "/patients/", None, 200, "list"),
    Case("patients:list", "post", "/patients/", {"q": FAMILY}, 200, "list"),
    Case("patients:new", "get", "/patients/new/", None, 200, "none"),
    Case("patients:new", "post", "/patients/new/", {"location": "north", **NEW}, 302, "none"),
    Case("patients:new", "post", "/patients/new/", {"location": "north"}, 422, "none"),
    Case("patients:new", "post", "/patients/new/", _same_person, 409, "list"),
    Case("patients:intake_row", "get", "/patients/new/rows/antidepressant_trials/3/", None, 200, "none"),
    Case("patients:chart", "get", f"/patients/{PID}/", None, 200, "read"),
    Case("patients:edit", "get", f"/patients/{PID}/edit/", None, 200, "read"),
    Case("patients:edit", "post", f"/patients/{PID}/edit/", _edit(phone="555-0100"), 302, "none"),
    Case("patients:edit", "post", f"/patients/{PID}/edit/", {"phone": "1"}, 400, "read"),
    Case("patients:edit", "post", f"/patients/{PID}/edit/", _edit(given_name=""), 422, "read"),
    Case("patients:edit", "post", f"/patients/{PID}/edit/", _edit(version_offset=1), 409, "read"),
    Case("patients:entered_in_error", "post", f"/patients/{PID}/entered-in-error/", {}, 422, "read"),
    Case(
        "patients:entered_in_error",
        "post",
        f"/patients/{PID}/entered-in-error/",
        {"reason": "registered twice"},
        302,
        "none",
    ),
    Case("patients:entry_form", "get", f"/patients/{PID}/forms/conditions/", None, 200, "none"),
    Case("patients:add_entry", "post", f"/patients/{PID}/conditions/", ADD["conditions"], 302, "none"),
    Case("patients:add_entry", "post", f"/patients/{PID}/conditions/", {"code": ""}, 422, "read"),
    Case(
        "patients:add_measurement", "post", f"/patients/{PID}/measurements/", {"weight_kg": "70"}, 302, "none"
    ),
    Case("patients:add_measurement", "post", f"/patients/{PID}/measurements/", {}, 422, "read"),
    Case(
        "patients:entry_status",
        "post",
        f"/patients/{PID}/conditions/{ENTRY}/status/",
        {"status": "resolved"},
        302,
        "none",
    ),
    Case(
        "patients:entry_status",
        "post",
        f"/patients/{PID}/conditions/{ENTRY}/status/",
        {"status": "gone"},
        422,
        "read",
    ),
    Case("audit:review", "get", "/audit/", None, 200, "audit", "admin.north"),
    Case("audit:review", "post", "/audit/", {"export": "csv"}, 200, "audit", "admin.north"),
    Case("audit:review", "post", "/audit/", {"sort": "password"}, 422, "none", "admin.north"),
    Case("web:home", "get", "/", None, 302, "none"),
    Case("web:login", "get", "/login/", None, 200, "none", None),
    Case("web:logout", "post", "/logout/", None, 302, "none"),
    Case("admin_login", "get", "/admin/login/", None, 200, "none", None),
    Case("admin_logout", "post", "/admin/logout/", None, 302, "none"),
    Case("web:no_access", "get", "/no-access/", None, 403, "none"),
    Case("rules", "get", "/rules/", None, 200, "none"),
]

ENDPOINTS: list[Case] = [
    Case(f"GET {API}", "get", API, None, 200, "list"),
    Case(f"POST {API}/search", "post", f"{API}/search", {"q": FAMILY}, 200, "list"),
    Case(f"POST {API}", "post", API, {"location": "north", **NEW}, 201, "read"),
    Case(f"POST {API}", "post", API, _same_person, 409, "list"),
    Case(f"GET {API}/{{patient_id}}", "get", f"{API}/{PID}", None, 200, "read"),
    Case(f"PATCH {API}/{{patient_id}}", "patch", f"{API}/{PID}", {"phone": "555-0100"}, 200, "read"),
    Case(
        f"POST {API}/{{patient_id}}/entered-in-error",
        "post",
        f"{API}/{PID}/entered-in-error",
        {"reason": "registered twice"},
        200,
        "read",
    ),
]
# A location's clinic policy and chairs: no patient data.
_LOC = "/api/v1/locations/{location_id}"
ENDPOINTS += [
    Case(f"GET {_LOC}/policy", "get", f"/api/v1/locations/{LID}/policy", None, 200, "none", "admin.north"),
    Case(
        f"PATCH {_LOC}/policy",
        "patch",
        f"/api/v1/locations/{LID}/policy",
        {"values": {"madrs_remission_max": 12}, "reason": "local protocol"},
        200,
        "none",
        "admin.north",
        '"0"',
    ),
    Case(f"GET {_LOC}/chairs", "get", f"/api/v1/locations/{LID}/chairs", None, 200, "none"),
    Case(
        f"POST {_LOC}/chairs",
        "post",
        f"/api/v1/locations/{LID}/chairs",
        {"name": "Chair 99"},
        201,
        "none",
        "admin.north",
    ),
    Case(
        f"GET {_LOC}/chairs/{{chair_id}}", "get", f"/api/v1/locations/{LID}/chairs/{CHAIR}", None, 200, "none"
    ),
    Case(
        f"PATCH {_LOC}/chairs/{{chair_id}}",
        "patch",
        f"/api/v1/locations/{LID}/chairs/{CHAIR}",
        {"name": "Chair 77"},
        200,
        "none",
        "admin.north",
        '"1"',
    ),
]
for _key in (*SECTIONS, "measurements"):
    _path = f"{API}/{{patient_id}}/{_key}"
    ENDPOINTS += [
        Case(f"GET {_path}", "get", f"{API}/{PID}/{_key}", None, 200, "read"),
        Case(f"POST {_path}", "post", f"{API}/{PID}/{_key}", ADD[_key], 201, "read"),
        Case(f"GET {_path}/{{entry_id}}", "get", f"{API}/{PID}/{_key}/{ENTRY}", None, 200, "read"),
    ]
    if _key in SECTIONS:
        ENDPOINTS.append(
            Case(
                f"PATCH {_path}/{{entry_id}}",
                "patch",
                f"{API}/{PID}/{_key}/{ENTRY}",
                {"status": "resolved"},
                200,
                "read",
            )
        )

# Spravato REMS: a location's certified-setting details carry no patient data.
_REMS_SETTING = {
    "location": "north",
    "version": 1,
    "setting_name": "North Clinic",
    "address": "1 Harbour Way",
    "certification_id": "SPR-N-0001",
    "authorised_representative": "Dr Avery Stone",
}
ENDPOINTS += [
    Case("GET /api/v1/rems/settings", "get", "/api/v1/rems/settings", None, 200, "none", "admin.north"),
    Case(
        "POST /api/v1/rems/settings",
        "post",
        "/api/v1/rems/settings",
        _REMS_SETTING,
        200,
        "none",
        "admin.north",
    ),
]
# The treatment-floor board lists today's patients of a location: one list event per board.
PAGES += [
    Case("floor:board", "get", "/floor/", None, 200, "list"),
]
ENDPOINTS.append(Case("GET /api/v1/floor", "get", "/api/v1/floor?location=north", None, 200, "list"))


def _consent(p: Patient) -> dict[str, Any]:
    from ketaclinic.patients.tests.test_access_matrix import _consent_body

    return _consent_body(p)


SCREENING = "{screening}"
ENDPOINTS += [
    Case(
        "POST /api/v1/patients/{patient_id}/screenings",
        "post",
        f"/api/v1/patients/{PID}/screenings",
        {"modality": "iv_ketamine"},
        201,
        "read",
        "prescriber.north",
    ),
    Case(
        "GET /api/v1/screenings/{screening_id}", "get", f"/api/v1/screenings/{SCREENING}", None, 200, "read"
    ),
    Case(
        "POST /api/v1/screenings/{screening_id}/acknowledgements",
        "post",
        f"/api/v1/screenings/{SCREENING}/acknowledgements",
        {"rule_id": "ELIG-ALL-ACK-PSYCHOSIS", "reason": "Stable for ten years."},
        201,
        "read",
        "prescriber.north",
    ),
    Case(
        "POST /api/v1/patients/{patient_id}/rems-enrolment",
        "post",
        f"/api/v1/patients/{PID}/rems-enrolment",
        {"enrolled_on": "2026-01-05", "rems_patient_id": "SPR-1"},
        201,
        "read",
        "prescriber.north",
    ),
    Case("GET /api/v1/consent-documents", "get", "/api/v1/consent-documents", None, 200, "none"),
    Case(
        "POST /api/v1/patients/{patient_id}/consents",
        "post",
        f"/api/v1/patients/{PID}/consents",
        _consent,
        201,
        "read",
    ),
]

DOCUMENT = "{document}"


def _signing(p: Patient) -> dict[str, Any]:
    return {"signed_name": _consent(p)["signed_name"], "witness_confirmed": "on"}


PRESCRIBER = "prescriber.north"
SCR = f"/screening/patients/{PID}"
PAGES += [
    Case("screening:patient", "get", f"{SCR}/", None, 200, "read"),
    Case("screening:panel", "get", f"{SCR}/panel/", None, 200, "read"),
    Case("screening:run", "post", f"{SCR}/run/", {"modality": "iv_ketamine"}, 302, "none", PRESCRIBER),
    Case("screening:run", "post", f"{SCR}/run/", {"modality": "nope"}, 422, "read", PRESCRIBER),
    Case(
        "screening:enrol",
        "post",
        f"{SCR}/rems-enrolment/",
        {"enrolled_on": "2026-01-05", "rems_patient_id": "SPR-1"},
        302,
        "none",
        PRESCRIBER,
    ),
    Case("screening:enrol", "post", f"{SCR}/rems-enrolment/", {}, 422, "read", PRESCRIBER),
    Case("screening:screening", "get", f"{SCR}/{SCREENING}/", None, 200, "read"),
    Case(
        "screening:acknowledge",
        "post",
        f"{SCR}/{SCREENING}/acknowledge/",
        {"rule_id": "ELIG-ALL-ACK-PSYCHOSIS", "reason": "Stable."},
        302,
        "none",
        PRESCRIBER,
    ),
    Case(
        "screening:acknowledge",
        "post",
        f"{SCR}/{SCREENING}/acknowledge/",
        {"rule_id": "ELIG-ALL-ACK-PSYCHOSIS"},
        422,
        "read",
        PRESCRIBER,
    ),
    Case("consent:documents", "get", "/consent/documents/", None, 200, "none", "admin.north"),
    Case("consent:publish", "get", "/consent/documents/new/", None, 200, "none", "admin.north"),
    Case(
        "consent:publish",
        "post",
        "/consent/documents/new/",
        {"location": "north", "modality": "iv_ketamine", "title": "T", "body": "B"},
        302,
        "none",
        "admin.north",
    ),
    Case("consent:publish", "post", "/consent/documents/new/", {}, 422, "none", "admin.north"),
    Case("consent:document", "get", f"/consent/documents/{DOCUMENT}/", None, 200, "none", "admin.north"),
    Case("consent:patient", "get", f"/consent/patients/{PID}/", None, 200, "read"),
    Case("consent:sign", "get", f"/consent/patients/{PID}/sign/{DOCUMENT}/", None, 200, "read"),
    Case("consent:sign", "post", f"/consent/patients/{PID}/sign/{DOCUMENT}/", _signing, 302, "none"),
    Case("consent:sign", "post", f"/consent/patients/{PID}/sign/{DOCUMENT}/", {}, 422, "read"),
]

# The ledger (ketaclinic/ledger) names no patient in its API answers: a dose's event carries the patient's id
# only. {waste}: a pending waste at north recorded by someone else (ledger/tests/helpers.py).
LEDGER = "/api/v1/ledger"
WASTE = "{waste}"
ENDPOINTS += [
    Case(f"GET {LEDGER}/balances", "get", f"{LEDGER}/balances", None, 200, "none"),
    Case(f"GET {LEDGER}/events", "get", f"{LEDGER}/events", None, 200, "none"),
    Case(
        f"POST {LEDGER}/events",
        "post",
        f"{LEDGER}/events",
        lambda p: ledger_helpers.matrix_receipt("north"),
        201,
        "none",
    ),
    Case(f"GET {LEDGER}/events/{{entry_id}}", "get", f"{LEDGER}/events/{WASTE}", None, 200, "none"),
    Case(
        f"POST {LEDGER}/events/{{entry_id}}/witness",
        "post",
        f"{LEDGER}/events/{WASTE}/witness",
        {},
        200,
        "none",
    ),
]

# Assessment requests: the answer names the patient's request (never their answers): a read.
REQUEST = "{assessment_request}"
ENDPOINTS += [
    Case(
        f"POST {API}/{{patient_id}}/assessment-requests",
        "post",
        f"{API}/{PID}/assessment-requests",
        {"instrument": "gad7", "channel": "email"},
        201,
        "read",
    ),
    Case(
        f"GET {API}/{{patient_id}}/assessment-requests/{{request_id}}",
        "get",
        f"{API}/{PID}/assessment-requests/{REQUEST}",
        None,
        200,
        "read",
    ),
]

# Theft and loss reports name no patient. {loss}: a loss report at north (ledger/tests/matrix.py).
LOSS = "{loss}"
ENDPOINTS += [
    Case(f"GET {LEDGER}/losses", "get", f"{LEDGER}/losses", None, 200, "none"),
    Case(
        f"POST {LEDGER}/losses",
        "post",
        f"{LEDGER}/losses",
        lambda p: ledger_matrix.loss_body(p.location),
        201,
        "none",
    ),
    Case(f"GET {LEDGER}/losses/{{loss_id}}", "get", f"{LEDGER}/losses/{LOSS}", None, 200, "none"),
    Case(
        f"POST {LEDGER}/losses/{{loss_id}}/steps",
        "post",
        f"{LEDGER}/losses/{LOSS}/steps",
        lambda p: ledger_matrix.step_body(p.location),
        201,
        "none",
    ),
    Case(
        f"GET {LEDGER}/losses/{{loss_id}}/form-106",
        "get",
        f"{LEDGER}/losses/{LOSS}/form-106",
        None,
        200,
        "none",
    ),
]

# Treatment plans and sessions: every answer carries the chart. Each case sends the access matrix's request
# for the route (ketaclinic/treatment/tests/matrix.py), which prepares the plan or session in the state the
# route needs ({plan}, {session}, {alert}, {device}) at a pinned clock.
_TREATMENT_STATUS = {
    "api create plan": ("POST /api/v1/patients/{patient_id}/treatment-plans", 201),
    "api list plans": ("GET /api/v1/patients/{patient_id}/treatment-plans", 200),
    "api read plan": ("GET /api/v1/treatment-plans/{plan_id}", 200),
    "api approve plan": ("POST /api/v1/treatment-plans/{plan_id}/approve", 200),
    "api pause plan": ("POST /api/v1/treatment-plans/{plan_id}/pause", 200),
    "api resume plan": ("POST /api/v1/treatment-plans/{plan_id}/resume", 200),
    "api plan dose": ("POST /api/v1/treatment-plans/{plan_id}/dose", 200),
    "api plan frequency": ("POST /api/v1/treatment-plans/{plan_id}/frequency", 200),
    "api end plan": ("POST /api/v1/treatment-plans/{plan_id}/end", 200),
    "api read session": ("GET /api/v1/sessions/{session_id}", 200),
    "api check in": ("POST /api/v1/sessions/{session_id}/check-in", 201),
    "api assignment": ("POST /api/v1/sessions/{session_id}/assignment", 200),
    "api pre-dose checks": ("POST /api/v1/sessions/{session_id}/pre-dose-checks", 201),
    "api vitals": ("POST /api/v1/sessions/{session_id}/vitals", 201),
    "api answer alert": ("POST /api/v1/sessions/{session_id}/alerts/{alert_id}/answer", 200),
    "api dose": ("POST /api/v1/sessions/{session_id}/doses", 201),
    "api device": ("POST /api/v1/sessions/{session_id}/devices/{number}", 200),
    "api dose end": ("POST /api/v1/sessions/{session_id}/dose-end", 200),
    "api observation": ("POST /api/v1/sessions/{session_id}/observations", 201),
    "api adverse event": ("POST /api/v1/sessions/{session_id}/adverse-events", 201),
    "api discharge": ("POST /api/v1/sessions/{session_id}/discharge", 201),
    "api sign": ("POST /api/v1/sessions/{session_id}/sign", 200),
    "api amend": ("POST /api/v1/sessions/{session_id}/amendments", 201),
}
TREATMENT = {r[0]: r for r in treatment_matrix.ROUTES if r[0] in _TREATMENT_STATUS}
assert TREATMENT.keys() == _TREATMENT_STATUS.keys()
for _name, (_route, _status) in _TREATMENT_STATUS.items():
    _, _method, _url, _body, _roles = TREATMENT[_name][:5]
    _who = "prescriber.north" if _roles == treatment_matrix.PRESCRIBER else "nurse.north"
    ENDPOINTS.append(Case(_route, _method, _url, _body, _status, "read", _who))
TREATMENT_BY_ROUTE = {_TREATMENT_STATUS[name][0]: route for name, route in TREATMENT.items()}

SESSION = "00000000-5e55-4000-8000-000000000000"  # a discharged esketamine session of the patient (rems)


def _submission(p: Patient) -> dict[str, Any]:
    from django.utils import timezone

    return {"submitted_at": timezone.now().isoformat(), "confirmation_number": "CONF-1"}


ENDPOINTS += [
    Case(
        "GET /api/v1/sessions/{session_id}/rems-form",
        "get",
        f"/api/v1/sessions/{SESSION}/rems-form",
        None,
        200,
        "read",
    ),
    Case(
        "POST /api/v1/sessions/{session_id}/rems-form/submission",
        "post",
        f"/api/v1/sessions/{SESSION}/rems-form/submission",
        _submission,
        201,
        "none",
    ),
    Case("GET /api/v1/rems/queue", "get", "/api/v1/rems/queue", None, 200, "list"),
]

# Assessments (ketaclinic/assessments): every answer that shows a response, a trend or an episode carries the
# chart. {assessment}: a PHQ-9 of the patient (assessments/tests/matrix.py).
ASSESSMENT = "{assessment}"
ASM = f"/assessments/patients/{PID}"
MADRS_FORM = {f"item-{n}": "2" for n in range(1, 11)}
PHQ9 = {"instrument": "phq9", "answers": [1, 1, 1, 1, 1, 1, 1, 1, 0]}
PAGES += [
    Case("assessments:patient", "get", f"{ASM}/", None, 200, "read"),
    Case("assessments:panel", "get", f"{ASM}/panel/", None, 200, "read"),
    Case("assessments:enter", "get", f"{ASM}/new/madrs/", None, 200, "read"),
    Case("assessments:enter", "post", f"{ASM}/new/madrs/", MADRS_FORM, 302, "none"),
    Case("assessments:enter", "post", f"{ASM}/new/madrs/", {"item-1": "9"}, 422, "read"),
    Case("assessments:assessment", "get", f"{ASM}/{ASSESSMENT}/", None, 200, "read"),
    Case("assessments:requests", "get", f"{ASM}/requests/", None, 200, "read"),
    Case(
        "assessments:requests",
        "post",
        f"{ASM}/requests/",
        {"instrument": "gad7", "channel": "none"},
        200,
        "read",
    ),
    Case(
        "assessments:requests",
        "post",
        f"{ASM}/requests/",
        {"instrument": "nope", "channel": "none"},
        422,
        "read",
    ),
]
ENDPOINTS += [
    Case(
        "POST /api/v1/patients/{patient_id}/assessments",
        "post",
        f"{API}/{PID}/assessments",
        PHQ9,
        201,
        "read",
    ),
    Case(
        "GET /api/v1/patients/{patient_id}/assessments", "get", f"{API}/{PID}/assessments", None, 200, "read"
    ),
    Case(
        "GET /api/v1/patients/{patient_id}/assessments/{assessment_id}",
        "get",
        f"{API}/{PID}/assessments/{ASSESSMENT}",
        None,
        200,
        "read",
    ),
    Case("GET /api/v1/patients/{patient_id}/episode", "get", f"{API}/{PID}/episode", None, 200, "read"),
]

# Safety alerts, safety plans and the worklist (ketaclinic/assessments/safety_*.py). {alert}: an open
# worsening flag of the patient; {safety_plan}: a safety plan of theirs (assessments/tests/safety_matrix.py).
ALERT, SAFETY_PLAN = "{alert}", "{safety_plan}"
_SAFE = f"/safety/patients/{PID}"
_SAPI = f"/api/v1/patients/{PID}"
_PLAN = {"plan_text": "Call or text 988."}
_REVIEW = {"note": "Reviewed."}
_CSSRS = {"q1": "no", "q2": "no", "q6": "no"}
PAGES += [
    Case("safety:worklist", "get", "/worklist/", None, 200, "list"),
    Case("safety:cssrs", "get", f"{_SAFE}/cssrs/", None, 200, "read", PRESCRIBER),
    Case("safety:cssrs", "post", f"{_SAFE}/cssrs/", _CSSRS, 302, "none", PRESCRIBER),
    Case("safety:cssrs", "post", f"{_SAFE}/cssrs/", {}, 422, "read", PRESCRIBER),
    Case("safety:plan", "get", f"{_SAFE}/safety-plan/", None, 200, "read", PRESCRIBER),
    Case("safety:plan", "post", f"{_SAFE}/safety-plan/", _PLAN, 302, "none", PRESCRIBER),
    Case("safety:plan", "post", f"{_SAFE}/safety-plan/", {}, 422, "read", PRESCRIBER),
    Case("safety:review", "get", f"{_SAFE}/alerts/{ALERT}/review/", None, 200, "read", PRESCRIBER),
    Case("safety:review", "post", f"{_SAFE}/alerts/{ALERT}/review/", _REVIEW, 302, "none", PRESCRIBER),
    Case("safety:review", "post", f"{_SAFE}/alerts/{ALERT}/review/", {}, 422, "read", PRESCRIBER),
]
ENDPOINTS += [
    Case("GET /api/v1/worklist", "get", "/api/v1/worklist", None, 200, "list"),
    Case(
        "GET /api/v1/patients/{patient_id}/safety-alerts",
        "get",
        f"{_SAPI}/safety-alerts",
        None,
        200,
        "read",
    ),
    Case(
        "POST /api/v1/patients/{patient_id}/safety-alerts/{alert_id}/close",
        "post",
        f"{_SAPI}/safety-alerts/{ALERT}/close",
        _REVIEW,
        200,
        "read",
        PRESCRIBER,
    ),
    Case(
        "POST /api/v1/patients/{patient_id}/safety-plans",
        "post",
        f"{_SAPI}/safety-plans",
        _PLAN,
        201,
        "read",
        PRESCRIBER,
    ),
    Case(
        "GET /api/v1/patients/{patient_id}/safety-plans/{plan_id}",
        "get",
        f"{_SAPI}/safety-plans/{SAFETY_PLAN}",
        None,
        200,
        "read",
    ),
]

# Costs and billing: every answer about a patient's money carries their record; the price list none. Each case
# sends the access matrix's request (ketaclinic/billing/tests/matrix.py prepares the coverage, plan, signed
# session or invoice). The billing pages' read events are walked in billing/tests/test_pages.py.
_BILLING_STATUS = {
    "api price list": ("GET /api/v1/price-list", 200, "none"),
    "api add coverage": ("POST /api/v1/patients/{patient_id}/coverages", 201, "read"),
    "api benefit check": ("POST /api/v1/coverages/{coverage_id}/benefit-checks", 201, "read"),
    "api estimate": ("POST /api/v1/treatment-plans/{plan_id}/estimate", 201, "read"),
    "api invoice": ("POST /api/v1/sessions/{session_id}/invoice", 201, "read"),
    "api payment": ("POST /api/v1/invoices/{invoice_id}/payments", 201, "read"),
    "api superbill": ("GET /api/v1/invoices/{invoice_id}/superbill", 200, "read"),
    "api prior authorization packet": ("GET /api/v1/patients/{patient_id}/prior-authorization", 200, "read"),
    "api add authorization": ("POST /api/v1/treatment-plans/{plan_id}/prior-authorizations", 201, "read"),
    "api authorizations": ("GET /api/v1/treatment-plans/{plan_id}/prior-authorizations", 200, "read"),
}
BILLING = {r[0]: r for r in billing_matrix.ROUTES if r[0] in _BILLING_STATUS}
assert BILLING.keys() == _BILLING_STATUS.keys()
for _name, (_route, _status, _kind) in _BILLING_STATUS.items():
    _, _method, _url, _body = BILLING[_name][:4]
    ENDPOINTS.append(Case(_route, _method, _url, _body, _status, _kind, "frontdesk.north"))  # type: ignore[arg-type]
BILLING_BY_ROUTE = {_BILLING_STATUS[name][0]: route for name, route in BILLING.items()}
# The calendar (ketaclinic/scheduling/tests/matrix.py prepares each route's state and fills its body): the
# schedule is a list; a booking, course, cancel or no-show answers with the patient's appointment (a read);
# a refused booking names rules only; chairs and the resources carry no patient.
_REFUSED_BOOKING = (
    "api book appointment refused",
    "post",
    "/api/v1/appointments",
    {"patient_id": "{pid}", "kind": "consultation", "starts_at": "{past}"},
)
_REFUSED_MOVE = (
    "api move appointment refused",
    "post",
    scheduling_matrix.A + "/move",
    {"starts_at": "{past}"},
)
_REFUSED_MOVE_PAGE = (
    "appointment move page refused",
    "post",
    "/schedule/appointments/{appointment}/move/",
    {"date": "", "time": ""},
)
_REFUSED_WAITLIST_PAGE = (
    "waitlist add page refused",
    "post",
    "/schedule/waitlist/add/",
    {"location": "{location_id}", "patient_mrn": "", "kind": "consultation"},
)
_SCHEDULING: list[tuple[str, int, Kind, str, tuple[Any, ...]]] = [
    ("GET /api/v1/chairs", 200, "none", "nurse.north", ()),
    ("GET /api/v1/schedule", 200, "list", "nurse.north", ()),
    ("POST /api/v1/appointments", 201, "read", "frontdesk.north", ()),
    ("POST /api/v1/appointments", 409, "none", "frontdesk.north", _REFUSED_BOOKING),
    ("POST /api/v1/treatment-plans/{plan_id}/bookings", 201, "read", "frontdesk.north", ()),
    ("POST /api/v1/appointments/{appointment_id}/cancel", 200, "read", "frontdesk.north", ()),
    ("POST /api/v1/appointments/{appointment_id}/no-show", 200, "read", "frontdesk.north", ()),
    ("scheduling:calendar", 200, "list", "nurse.north", ()),
    ("scheduling:book", 302, "none", "frontdesk.north", ()),
    ("scheduling:cancel", 302, "none", "frontdesk.north", ()),
    ("scheduling:no_show", 302, "none", "frontdesk.north", ()),
    ("scheduling:course", 200, "read", "nurse.north", ()),
    ("scheduling:course", 200, "read", "frontdesk.north", ("post",)),
    ("scheduling:resources", 200, "none", "nurse.north", ()),
    ("scheduling:add_resource", 302, "none", "admin.north", ()),
    # The week's proposals: their visits name patients (a list of the location); asking shows none.
    ("POST /api/v1/schedule/proposals", 201, "list", "frontdesk.north", ()),
    ("GET /api/v1/schedule/proposals/{proposal_id}", 200, "list", "frontdesk.north", ()),
    ("POST /api/v1/schedule/proposals/{proposal_id}/accept", 200, "list", "frontdesk.north", ()),
    ("scheduling:proposals", 200, "none", "frontdesk.north", ()),
    ("scheduling:proposal", 200, "list", "frontdesk.north", ()),
    ("scheduling:accept_proposal", 200, "list", "frontdesk.north", ()),
    # Calendars, the waitlist and feeds (calendar_views.py, calendar_api.py): a visit's page, and a move or
    # check-in answered with the visit, carry the patient (a read); a refused move in the API names rules
    # only, a refused move on the page shows the visit again (a read). A staff member's calendar and the
    # waitlist name the patients of a location (a list, even on a refused add); capacity is counts only and
    # the feed's URL is a secret, not a patient. The patient's public links and the .ics feed are walked
    # apart (test_every_page_is_walked).
    ("scheduling:appointment", 200, "read", "nurse.north", ()),
    ("scheduling:move", 302, "none", "frontdesk.north", ()),
    ("scheduling:move", 422, "read", "frontdesk.north", _REFUSED_MOVE_PAGE),
    ("scheduling:check_in", 302, "none", "frontdesk.north", ()),
    ("scheduling:staff_calendar", 200, "list", "nurse.north", ()),
    ("scheduling:my_calendar", 200, "list", "nurse.north", ()),
    ("scheduling:my_feed", 302, "none", "nurse.north", ()),
    ("scheduling:my_book", 302, "none", "therapist.north", ()),
    ("scheduling:capacity", 200, "none", "nurse.north", ()),
    ("scheduling:waitlist", 200, "list", "nurse.north", ()),
    ("scheduling:waitlist_add", 302, "none", "frontdesk.north", ()),
    ("scheduling:waitlist_add", 422, "list", "frontdesk.north", _REFUSED_WAITLIST_PAGE),
    ("scheduling:waitlist_remove", 302, "none", "frontdesk.north", ()),
    ("GET /api/v1/me/calendar-feed", 200, "none", "nurse.north", ()),
    ("POST /api/v1/appointments/{appointment_id}/move", 200, "read", "frontdesk.north", ()),
    ("POST /api/v1/appointments/{appointment_id}/move", 409, "none", "frontdesk.north", _REFUSED_MOVE),
    ("POST /api/v1/appointments/{appointment_id}/check-in", 200, "read", "frontdesk.north", ()),
    ("POST /api/v1/waitlist", 201, "read", "frontdesk.north", ()),
    ("GET /api/v1/waitlist", 200, "list", "nurse.north", ()),
    ("GET /api/v1/schedule/capacity", 200, "none", "nurse.north", ()),
]
_SCHEDULING_ROUTES = {
    "GET /api/v1/chairs": "api schedule chairs",
    "GET /api/v1/schedule": "api schedule",
    "POST /api/v1/appointments": "api book appointment",
    "POST /api/v1/treatment-plans/{plan_id}/bookings": "api book course",
    "POST /api/v1/appointments/{appointment_id}/cancel": "api cancel appointment",
    "POST /api/v1/appointments/{appointment_id}/no-show": "api no-show",
    "scheduling:calendar": "schedule page",
    "scheduling:book": "schedule book page",
    "scheduling:cancel": "schedule cancel page",
    "scheduling:no_show": "schedule no-show page",
    "scheduling:resources": "schedule resources page",
    "scheduling:add_resource": "schedule add closure page",
    "POST /api/v1/schedule/proposals": "api schedule proposal ask",
    "GET /api/v1/schedule/proposals/{proposal_id}": "api schedule proposal",
    "POST /api/v1/schedule/proposals/{proposal_id}/accept": "api schedule proposal accept",
    "scheduling:proposals": "proposals page",
    "scheduling:proposal": "proposal page",
    "scheduling:accept_proposal": "proposal accept page",
    "scheduling:appointment": "appointment page",
    "scheduling:move": "appointment move page",
    "scheduling:check_in": "appointment check-in page",
    "scheduling:staff_calendar": "staff calendar page",
    "scheduling:my_calendar": "my calendar page",
    "scheduling:my_feed": "my feed rotate page",
    "scheduling:my_book": "my calendar book page",
    "scheduling:capacity": "capacity page",
    "scheduling:waitlist": "waitlist page",
    "scheduling:waitlist_add": "waitlist add page",
    "scheduling:waitlist_remove": "waitlist remove page",
    "GET /api/v1/me/calendar-feed": "api calendar feed",
    "POST /api/v1/appointments/{appointment_id}/move": "api move appointment",
    "POST /api/v1/appointments/{appointment_id}/check-in": "api check-in",
    "POST /api/v1/waitlist": "api waitlist add",
    "GET /api/v1/waitlist": "api waitlist",
    "GET /api/v1/schedule/capacity": "api capacity",
}
_SAMPLES = {"location_id": "1", "plan": str(uuid.UUID(int=1)), "appointment": str(uuid.UUID(int=1))}
_SAMPLES["proposal"] = str(uuid.UUID(int=1))
_SAMPLES |= {"staff": "1", "entry": str(uuid.UUID(int=1))}
SCHEDULING_BY_CASE: dict[tuple[str, int, str], tuple[Any, ...]] = {}
for _route, _status, _kind, _who, _special in _SCHEDULING:
    _post = _special == ("post",)
    if _special and not _post:
        _matrix = _special
    else:
        _name = _SCHEDULING_ROUTES.get(_route) or ("course booking page" if _post else "course page")
        _matrix = next(r for r in scheduling_matrix.ROUTES if r[0] == _name)
    _method = _matrix[1]
    _url = _matrix[2].split("?")[0].format(**_SAMPLES, **{"plan_day": "", "pid": PID})
    _case = Case(_route, _method, _url, None, _status, _kind, _who)
    (PAGES if ":" in _route and not _route.startswith(("GET ", "POST ")) else ENDPOINTS).append(_case)
    SCHEDULING_BY_CASE[(_route, _status, _method)] = _matrix
# At-home programs (ketaclinic/homecare): each case names the state it needs (homecare/tests/matrix.py):
# a program of the patient, or a dose whose missing check-in holds the next one.
_HOME = f"/home-programs/patients/{PID}"
_HAPI = f"/api/v1/patients/{PID}/home-program"
HOME_NEEDS: dict[tuple[str, str, int], str] = {}
PAGES += [
    Case("homecare:program", "get", f"{_HOME}/", None, 200, "read"),
    Case("homecare:program", "post", f"{_HOME}/", homecare_matrix.NEW, 302, "none", PRESCRIBER),
    Case("homecare:program", "post", f"{_HOME}/", {}, 422, "read", PRESCRIBER),
    Case("homecare:status", "post", f"{_HOME}/status/", homecare_matrix.STATUS, 302, "none", PRESCRIBER),
    Case("homecare:status", "post", f"{_HOME}/status/", {"status": "paused"}, 422, "read", PRESCRIBER),
    Case("homecare:release", "post", f"{_HOME}/release/", homecare_matrix.RELEASE, 302, "none", PRESCRIBER),
    Case("homecare:release", "post", f"{_HOME}/release/", {}, 422, "read", PRESCRIBER),
]
ENDPOINTS += [
    Case("GET /api/v1/patients/{patient_id}/home-program", "get", _HAPI, None, 200, "read"),
    Case(
        "POST /api/v1/patients/{patient_id}/home-program",
        "post",
        _HAPI,
        homecare_matrix.NEW,
        201,
        "read",
        PRESCRIBER,
    ),
    Case(
        "POST /api/v1/patients/{patient_id}/home-program/status",
        "post",
        f"{_HAPI}/status",
        homecare_matrix.STATUS,
        200,
        "read",
        PRESCRIBER,
    ),
    Case("GET /api/v1/patients/{patient_id}/home-program/doses", "get", f"{_HAPI}/doses", None, 200, "read"),
    Case(
        "POST /api/v1/patients/{patient_id}/home-program/release-hold",
        "post",
        f"{_HAPI}/release-hold",
        homecare_matrix.RELEASE,
        201,
        "read",
        PRESCRIBER,
    ),
]
for _case in PAGES + ENDPOINTS:
    if "/home-program" in _case.url:
        _prescribing = _case.method == "post" and _case.url.rstrip("/") in (_HOME, _HAPI)
        _held = "release" in _case.url
        HOME_NEEDS[(_case.method, _case.url, _case.status)] = (
            "held" if _held else "" if _prescribing else "program"
        )
# The care team, therapy sessions and notes (ketaclinic/therapy): each case sends the access matrix's request
# for its route (therapy/tests/matrix.py prepares the session or note, written by the therapist who sends it),
# with another body where the case says so (a refused form, shown again with the record).
THERAPIST = "therapist.north"
THERAPY_SENT: dict[tuple[str, str, int], tuple[Any, ...]] = {}
_THERAPY_ROUTES = {r[0]: r for r in therapy_matrix.ROUTES}


def _therapy(route: str, status: int, kind: Kind, matrix_name: str, body: Any = "same") -> Case:
    name, method, url, sent = _THERAPY_ROUTES[matrix_name][:4]
    sent = sent if body == "same" else body
    THERAPY_SENT[(route, method, status)] = (name, method, url, sent)
    return Case(route, method, url, sent, status, kind, THERAPIST)


PAGES += [
    _therapy("therapy:patient", 200, "read", "therapy page"),
    _therapy("therapy:patient", 302, "none", "schedule therapy page"),
    _therapy("therapy:patient", 422, "read", "schedule therapy page", {"kind": "massage"}),
    _therapy("therapy:panel", 200, "read", "therapy panel"),
    _therapy("therapy:care_team", 200, "read", "care team page"),
    _therapy("therapy:care_team", 302, "none", "care team save page"),
    _therapy("therapy:care_team", 422, "read", "care team save page", {"role-nurse": "nurse.south"}),
    _therapy("therapy:session", 200, "read", "therapy session page"),
    _therapy("therapy:write_note", 302, "none", "write therapy note page"),
    _therapy("therapy:write_note", 422, "read", "write therapy note page", {}),
    _therapy("therapy:note", 200, "read", "therapy note page"),
    _therapy("therapy:sign_note", 302, "none", "sign therapy note page"),
    _therapy("therapy:amend_note", 302, "none", "amend therapy note page"),
    _therapy("therapy:amend_note", 422, "read", "amend therapy note page", {"reason": ""}),
    _therapy("therapy:timeline", 200, "read", "timeline page"),
]
ENDPOINTS += [
    _therapy("GET /api/v1/patients/{patient_id}/care-team", 200, "read", "api read care team"),
    _therapy("PUT /api/v1/patients/{patient_id}/care-team", 200, "read", "api set care team"),
    _therapy(
        "POST /api/v1/patients/{patient_id}/therapy-sessions", 201, "read", "api schedule therapy session"
    ),
    _therapy("POST /api/v1/therapy-sessions/{session_id}/notes", 201, "read", "api write therapy note"),
    _therapy("GET /api/v1/notes/{note_id}", 200, "read", "api read therapy note"),
    _therapy("POST /api/v1/notes/{note_id}/sign", 200, "read", "api sign therapy note"),
    _therapy("POST /api/v1/notes/{note_id}/amendments", 201, "read", "api amend therapy note"),
    _therapy("GET /api/v1/patients/{patient_id}/timeline", 200, "read", "api timeline"),
]

# Outcome analytics (ketaclinic/outcomes): aggregates of a cohort, no patient ids or names; the page, the CSV
# and the API write an outcomes read (or export) event instead of a patient's.
PAGES += [
    Case("outcomes:report", "get", "/outcomes/", None, 200, "none", PRESCRIBER),
    Case("outcomes:report", "get", "/outcomes/?instrument=nope", None, 400, "none", PRESCRIBER),
    Case("outcomes:csv", "get", "/outcomes/report.csv", None, 200, "none", PRESCRIBER),
]
ENDPOINTS.append(
    Case("GET /api/v1/outcomes", "get", "/api/v1/outcomes?instrument=phq9", None, 200, "none", PRESCRIBER)
)

CASES = PAGES + ENDPOINTS


def _page_names(patterns: list[URLPattern | URLResolver], prefix: str = "") -> Iterator[str]:
    for p in patterns:
        if isinstance(p, URLResolver):
            if p.namespace in {
                "patients",
                "audit",
                "web",
                "screening",
                "consent",
                "floor",
                "assessments",
                "safety",
                "scheduling",
                "homecare",
                "therapy",
                "outcomes",
            }:
                yield from _page_names(p.url_patterns, f"{p.namespace}:")
        else:
            yield prefix + str(p.name)


def test_every_page_is_walked() -> None:
    """A new page fails here until a case says what its answers show."""
    served = set(_page_names(get_resolver().url_patterns))
    # The patient's public links (visit confirmation, slot offer) and the staff .ics feed open by a secret,
    # not a login, as the access matrix exempts them (scheduling/tests/matrix.py PUBLIC). They show no name,
    # MRN or kind of visit, and audit what they do instead of a read: VISIT_CONFIRM and SLOT_ACCEPT for the
    # patient, CALENDAR_FEED_READ for the feed's owner (tested in scheduling/tests/test_calendars.py).
    assert served - {c.route for c in PAGES} - scheduling_matrix.PUBLIC == set()
    for case in PAGES:  # each case's URL is the page it names
        url = case.url.replace(PID, str(uuid.uuid4())).replace(ENTRY, "1")
        url = url.replace(SCREENING, "1").replace(DOCUMENT, "1").replace(ASSESSMENT, "1").replace(ALERT, "1")
        url = (
            url.format_map(therapy_matrix.SAMPLE_IDS)
            if "{therapy_session}" in url or "{note}" in url
            else url
        )
        assert resolve(url.split("?")[0]).view_name == case.route, case


def test_every_api_answer_that_is_not_an_error_is_walked() -> None:
    """Every operation of the API, with every answer it documents other than an error, has a case."""
    from ketaclinic.api.app import api

    documented = set()
    for path, operations in api.get_openapi_schema()["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
                if not schema.get("$ref", "").endswith(("/ErrorOut", "/RefusedOut")):
                    documented.add((f"{method.upper()} {path}", int(status)))
    walked = {(c.route, c.status) for c in ENDPOINTS}
    assert documented - walked == set()
    assert walked - documented == set()


def _patient(world: World) -> Patient:
    """The north patient the cases read, with names and a note found nowhere else."""
    patient = world.patient("north")
    nurse = world.user("nurse.north")
    change = inputs.PatientUpdate(given_name=GIVEN, family_name=FAMILY)
    patient = actions.do_update_patient(patient, change, actor=nurse, expected_version=patient.version)
    actions.do_add_history_entry(patient, inputs.ConditionIn(code="ptsd", note=NOTE), actor=nurse)
    return patient


def _send(world: World, case: Case, patient: Patient) -> TestResponse:
    scheduled = SCHEDULING_BY_CASE.get((case.route, case.status, case.method))
    if scheduled is not None:
        client = world.api(case.who) if case.is_api else world.client(case.who)

        def deliver(target: str, data: Any) -> TestResponse:
            if case.is_api:
                kwargs = {"data": json.dumps(data), "content_type": "application/json"} if data else {}
                if case.method == "post" and not data:
                    kwargs = {"data": "{}", "content_type": "application/json"}
                sent: TestResponse = getattr(client, case.method)(target, **kwargs)
                return sent
            page: TestResponse = getattr(client, case.method)(target, data or {})
            return page

        booked: TestResponse = scheduling_matrix.call(scheduled, patient, deliver)
        return booked
    sent = THERAPY_SENT.get((case.route, case.method, case.status))
    if sent is not None:
        therapy_client = world.api(case.who) if case.is_api else world.client(case.who)

        def send_therapy(target: str, data: Any) -> TestResponse:
            if not case.is_api:
                page: TestResponse = getattr(therapy_client, case.method)(target, data or {})
                return page
            kwargs = (
                {"data": json.dumps(data), "content_type": "application/json"} if data is not None else {}
            )
            answer: TestResponse = getattr(therapy_client, case.method)(target, **kwargs)
            return answer

        therapy: TestResponse = therapy_matrix.call(sent, patient, send_therapy, case.who)
        return therapy
    if case.route in TREATMENT_BY_ROUTE or case.route in BILLING_BY_ROUTE:
        client = world.api(case.who)

        def send(target: str, data: Any) -> TestResponse:
            kwargs: dict[str, Any] = {}
            if data is not None:
                kwargs = {"data": json.dumps(data), "content_type": "application/json"}
            sent: TestResponse = getattr(client, case.method)(target, **kwargs)
            return sent

        if case.route in BILLING_BY_ROUTE:
            billed: TestResponse = billing_matrix.call(BILLING_BY_ROUTE[case.route], patient, send)
            return billed
        treated: TestResponse = treatment_matrix.call(TREATMENT_BY_ROUTE[case.route], patient, send)
        return treated
    need = HOME_NEEDS.get((case.method, case.url, case.status))
    if need == "program":
        homecare_matrix.program(patient)
    elif need == "held":
        homecare_matrix.held(patient)
    url = case.url.replace(PID, str(patient.pk)).replace(LID, str(patient.location_id))
    if CHAIR in url:
        from ketaclinic.clinicpolicy.models import Chair

        chair = Chair.objects.filter(location_id=patient.location_id).order_by("pk").first()
        assert chair is not None
        url = url.replace(CHAIR, str(chair.pk))
    if SCREENING in url:
        from ketaclinic.patients.tests.test_access_matrix import _screening

        url = url.replace(SCREENING, str(_screening(patient)))
    if DOCUMENT in url:
        url = url.replace(DOCUMENT, str(_consent(patient)["document_id"]))
    if WASTE in url:
        url = url.replace(WASTE, str(ledger_helpers.matrix_waste()))
    if REQUEST in url:
        from ketaclinic.patients.tests.test_access_matrix import _assessment_request

        url = url.replace(REQUEST, str(_assessment_request(patient)))
    if LOSS in url:
        url = url.replace(LOSS, str(ledger_matrix.loss_at(patient.location).pk))
    if ASSESSMENT in url:
        from ketaclinic.assessments.tests.matrix import recorded

        url = url.replace(ASSESSMENT, str(recorded(patient)))
    if SESSION in url:
        url = url.replace(SESSION, str(_rems_session(world, patient).pk))
    if ALERT in url:
        url = url.replace(ALERT, str(safety_matrix.worsening_alert(patient).pk))
    if SAFETY_PLAN in url:
        url = url.replace(SAFETY_PLAN, str(safety_matrix.safety_plan(patient).pk))
    if ENTRY in url:
        key = url.split("/")[-2 if case.is_api else -4]  # .../<section>/{entry} or .../{entry}/status/
        url = url.replace(ENTRY, str(_entries(patient)[key]))
    body = case.body(patient) if callable(case.body) else case.body
    if not case.is_api:
        response: TestResponse = getattr(world.client(case.who), case.method)(url, body or {})
        return response
    assert case.who is not None
    headers = {"If-Match": case.etag or f'"{patient.version}"'} if case.method == "patch" else {}
    data = {"data": json.dumps(body), "content_type": "application/json"} if body is not None else {}
    response = getattr(world.api(case.who), case.method)(url, headers=headers, **data)
    return response


def _rems_session(world: World, patient: Patient) -> Any:
    import datetime as dt

    from ketaclinic.clinicpolicy.clock import local_today
    from ketaclinic.rems.tests.sessions import charted_session, plan_for

    nurse = world.user("nurse.north")
    day = local_today(patient.location) - dt.timedelta(days=2)
    return charted_session(plan_for(patient, nurse), nurse, day)


def _read_patient(case: Case, patient: Patient, response: TestResponse) -> Any:
    """Whose record the answer carries: the new patient's for a registration, else the case's patient."""
    if case.is_api and case.method == "post" and case.status == 201 and case.url == API:
        return uuid.UUID(response.json()["id"])
    return patient.pk


@pytest.mark.parametrize("case", CASES, ids=Case.label)
def test_each_answer_writes_one_read_event_for_what_it_shows(world: World, case: Case) -> None:
    patient = _patient(world)
    last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    response = _send(world, case, patient)
    assert response.status_code == case.status, response.content[:300]
    events = list(AuditEvent.objects.filter(seq__gt=last))
    reads = [e for e in events if e.action in READ_ACTIONS]
    lists = [e for e in events if e.action in LIST_ACTIONS]
    reviews = [e for e in events if e.action in AUDIT_ACTIONS]
    if case.kind == "read":
        assert [e.patient_id for e in reads] == [_read_patient(case, patient, response)]
        assert lists == reviews == []
    elif case.kind == "list":
        assert len(lists) == 1 and lists[0].patient_id is None
        assert reads == reviews == []
    elif case.kind == "audit":
        assert len(reviews) == 1 and reads == lists == []
    else:
        assert reads == lists == reviews == []
        content = response.content
        assert not MRN.search(content), MRN.search(content)
        for marker in (GIVEN, FAMILY, NOTE):
            assert marker.encode() not in content
