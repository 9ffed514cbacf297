"""Settings for the test suite: the production settings with a throwaway key and data folder."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("KETACLINIC_SECRET_KEY", "test-" + "k" * 60)
os.environ.setdefault("KETACLINIC_DATA_DIR", tempfile.mkdtemp(prefix="ketaclinic-test-"))

from ketaclinic.settings import *  # noqa: F403

# A fast hash keeps hundreds of persona logins cheap; production keeps PBKDF2 (settings.py).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The personas sign in with their password alone, as in the demo clinic, so that every test of a page can
# use them; accounts/tests/test_mfa.py puts back the production policy (clinic admins and prescribers).
KETACLINIC_MFA_REQUIRED_ROLES = frozenset[str]()
# Serve static files straight from the apps (no collectstatic needed for tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
# Tasks run at once, in memory (Huey's immediate mode); the periodic ones are called by the tests with a
# clock of their own. Messages go to memory (django.core.mail.outbox, MemorySender.outbox).
HUEY = {**HUEY, "immediate": True}  # noqa: F405
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
KETACLINIC_SMS_SENDER = "ketaclinic.messaging.senders.MemorySender"

# Outcome analytics: re-read the extract on every report (the tests' rolled-back rows may reuse ids).
OUTCOMES_CACHE_SECONDS = 0
