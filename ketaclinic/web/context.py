"""Template context every page needs: the navigation the user's roles allow."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from django.http import HttpRequest
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH, get_token
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html

from ketaclinic.accounts import mfa
from ketaclinic.accounts.access import grants
from ketaclinic.accounts.permissions import Perm


@cache
def _links() -> dict[str, str]:
    """Navigation and asset URLs: the same for every page, so resolved once per process."""
    return {
        "home": reverse("web:home"),
        "patients": reverse("patients:list"),
        "register": reverse("patients:new"),
        "audit": reverse("audit:review"),
        "ledger": reverse("ledger:index"),
        "admin": reverse("admin:index"),
        "staff": reverse("staff:list"),
        "clinic": reverse("clinicpolicy:index"),
        "rules": reverse("rules"),
        "logout": reverse("web:logout"),
        "api_docs": reverse("api:openapi-view"),
        "mfa": reverse("mfa:account"),
        "mfa_staff": reverse("mfa:staff"),
        "consent_documents": reverse("consent:documents"),
        "floor": reverse("floor:board"),
        "css": static("web/app.css"),
        "htmx": static("web/vendor/htmx.min.js"),
        "forms_js": static("web/forms.js"),
        "icon": static("web/favicon.svg"),
    }


def csrf(request: HttpRequest) -> dict[str, Any]:
    """The CSRF token and its hidden input, made once per page.

    Django's Jinja2 backend hands templates lazy values that mask a fresh token each time they are printed:
    the chart prints one in every section's change form, and each masking cost about 0.27 ms (cProfile,
    50 chart requests). Replacing them here (context processors run after the backend sets them) masks once.
    """
    token = _token(request)
    field = format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token)
    return {"csrf_token": token, "csrf_input": field}


_CHARS = CSRF_ALLOWED_CHARS
_INDEX = {c: i for i, c in enumerate(_CHARS)}
_UNBIASED = 256 - 256 % len(_CHARS)  # bytes below this map onto the characters evenly (modulo)


def _token(request: HttpRequest) -> str:
    """What django.middleware.csrf.get_token returns, masked with one read of the system's randomness.

    Django masks the secret (BREACH) with 32 characters drawn one by one through `secrets.choice`, a
    system call each: 49 us a page, against 7 us for the same draw from one read of os.urandom (rejection
    sampled, so every character stays equally likely). The token is Django's format (mask, then the secret
    shifted by it), which its check unmasks (web/tests/test_csrf.py posts one). A request without a secret
    yet (no cookie) goes through get_token, which makes the secret and its cookie; a secret of another
    length or alphabet raises here.
    """
    secret = request.META.get("CSRF_COOKIE")
    if secret is None:
        return str(get_token(request))
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True  # as get_token: the cookie's expiry is renewed
    offsets: list[int] = []
    while len(offsets) < CSRF_SECRET_LENGTH:
        offsets += [b % len(_CHARS) for b in os.urandom(CSRF_SECRET_LENGTH + 8) if b < _UNBIASED]
    offsets = offsets[:CSRF_SECRET_LENGTH]
    shifted = [_CHARS[(_INDEX[c] + m) % len(_CHARS)] for c, m in zip(secret, offsets, strict=True)]
    return "".join([_CHARS[m] for m in offsets] + shifted)


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    match = request.resolver_match
    section = (match.app_name, match.url_name) if match else ("", "")
    if not user.is_authenticated or not mfa.passed(request, user):  # no navigation before the second step
        return {"links": _links(), "section": section}
    # What the user holds anywhere, gathered once for every link (can() per link walks the grants again).
    held: frozenset[Perm] = frozenset().union(*grants(user).values())
    return {
        "links": _links(),
        "section": section,
        "nav": {
            "patients": Perm.PATIENT_READ in held,
            "register": Perm.PATIENT_WRITE in held,
            "audit": Perm.AUDIT_READ in held,
            "ledger": Perm.LEDGER_READ in held,
            "admin": Perm.STAFF_MANAGE in held,
            "clinic": Perm.CLINIC_MANAGE in held,
            "consent_documents": Perm.CONSENT_DOCUMENTS in held,
            # The treatment-floor board: clinicians and front desk (patient read), not the clinic admin.
            "floor": Perm.PATIENT_READ in held,
            # Outcome analytics in the bar for clinic admins; a clinician's bar is full on a tablet, so
            # prescribers open /outcomes/ from the worklist's footer link instead.
            "outcomes": Perm.OUTCOMES_READ in held and Perm.PATIENT_READ not in held,
            "outcomes_page": Perm.OUTCOMES_READ in held,
            # FHIR bulk export of the location's charts (prescribers), linked from the worklist's footer.
            "fhir_export": Perm.FHIR_EXPORT in held,
        },
    }
