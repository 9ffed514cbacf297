"""Self-report links: the secret, its signature, its hash, the URL and the message that carries it.

A link is `<public URL>/r/<token>/`. The token is 32 random bytes (URL-safe base64) signed with the
server's key (`django.core.signing`, its own salt), so a forged or mistyped token is refused before any
lookup. Only the token's SHA-256 is stored (`AssessmentRequest.token_hash`): the token itself exists in the
answer to the request that made it and in the message sent, nowhere else. The URL carries no patient data.

Messages name no patient, instrument or medicine: a reader of the patient's inbox or phone learns only that
their clinic asks for a questionnaire, or that they have a visit tomorrow and how to prepare.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.core import signing

from ketaclinic.clinical.preparation import ESKETAMINE_PREPARATION

SALT = "ketaclinic.assessments.self-report-link"
_SIGNER_SEP = "."
PATH_PREFIX = "/r/"


def _signer() -> signing.Signer:
    return signing.Signer(salt=SALT, sep=_SIGNER_SEP)


def new_token() -> str:
    return _signer().sign(secrets.token_urlsafe(32))


def signature_ok(token: str) -> bool:
    if len(token) > 200:
        return False
    try:
        _signer().unsign(token)
    except signing.BadSignature:
        return False
    return True


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def url_of(token: str) -> str:
    return f"{settings.KETACLINIC_PUBLIC_URL}{PATH_PREFIX}{token}/"


def link_message(token: str, expires_at: dt.datetime, *, reminder: str = "") -> tuple[str, str]:
    """(subject, body) of a message carrying a self-report link; `reminder` is "", "due" or "overdue"."""
    subject = {
        "": "A short questionnaire from your clinic",
        "due": "A short questionnaire from your clinic",
        "overdue": "Reminder: a short questionnaire from your clinic",
    }[reminder]
    body = (
        "Your clinic asks you to answer a short questionnaire before your next visit.\n\n"
        f"Open this link: {url_of(token)}\n\n"
        "You will be asked for your date of birth first. The link works once and until "
        f"{expires_at:%d %b %Y %H:%M} UTC; any earlier link from us no longer works.\n\n"
        "If you are in crisis or thinking about harming yourself, call or text 988 (Suicide & Crisis "
        "Lifeline, US) now, or call 911 if you are in immediate danger.\n"
    )
    return subject, body


# Pre-visit instructions before an esketamine session: the same instructions, with their sources, that the
# patient portal shows (clinical/preparation.py), so the message and the portal cannot drift apart.
PREVISIT_SUBJECT = "Preparing for your visit tomorrow"
PREVISIT_BODY = (
    "You have a treatment visit at your clinic tomorrow. To prepare:\n\n"
    + "".join(f"- {instruction.text}\n" for instruction in ESKETAMINE_PREPARATION)
    + "\nIf you cannot come, please call your clinic.\n"
)
