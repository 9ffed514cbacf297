"""Django settings: a mapping of ketaclinic.config onto Django's names. Edit config.py, not this."""

from __future__ import annotations

import dj_database_url

from ketaclinic import config as _config

CONFIG = _config.load()
BASE_DIR = _config.BASE_DIR

SECRET_KEY = CONFIG.secret_key
DEBUG = CONFIG.debug
ALLOWED_HOSTS = CONFIG.allowed_hosts
CSRF_TRUSTED_ORIGINS = CONFIG.csrf_trusted_origins

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    # Second factors (HIPAA 164.312(d)): TOTP authenticator apps and single-use recovery codes.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "ketaclinic.web",
    "ketaclinic.accounts",
    "ketaclinic.audit",
    "ketaclinic.audit_review",
    "ketaclinic.staff",
    "ketaclinic.clinicpolicy",
    "ketaclinic.messaging",
    "ketaclinic.patients",
    "ketaclinic.emergency",
    "ketaclinic.idempotency",
    "ketaclinic.screening",
    "ketaclinic.consent",
    "ketaclinic.ledger",
    "ketaclinic.treatment",
    "ketaclinic.rems",
    "ketaclinic.floor",
    "ketaclinic.assessments",
    "ketaclinic.therapy",
    "ketaclinic.portal",
    "ketaclinic.billing",
    "ketaclinic.scheduling",
    "ketaclinic.homecare",
    # FHIR R4 exchange: the read API at /fhir/R4, bulk export and import (ketaclinic/fhir).
    "ketaclinic.fhir",
    "ketaclinic.outcomes",
    "ketaclinic.demo",
    # The task runner: periodic schedules, reminders and pre-visit instructions (ketaclinic/tasks.py).
    "huey.contrib.djhuey",
]

MIDDLEWARE = [
    # First, so that every answer carries the security headers, even one refused before the rest ran.
    "ketaclinic.web.middleware.SecurityHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "ketaclinic.web.middleware.RequestContextMiddleware",
    # Every error under /api/ in the API's JSON shape (405s and refusals no endpoint gave).
    "ketaclinic.web.middleware.ApiErrorsMiddleware",
    # A NUL character in a query parameter or form field: refused (422, naming it) before any view runs.
    "ketaclinic.web.middleware.RefuseNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "ketaclinic.accounts.middleware.IdleTimeoutMiddleware",
    "ketaclinic.accounts.mfa_middleware.MfaMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "ketaclinic.urls"
WSGI_APPLICATION = "ketaclinic.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "patients:list"

# Pages are Jinja2 templates (each app's jinja2/ folder, ketaclinic/web/templating.py); Django's template
# language serves the admin site only.
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "environment": "ketaclinic.web.templating.environment",
            "context_processors": [
                "ketaclinic.web.context.csrf",
                "ketaclinic.web.context.navigation",
                # The break-glass banner and links (web/base.html includes emergency/_banner.html).
                "ketaclinic.emergency.context.emergency",
                # The top bar's Spravato REMS link (web/_top_bar.html includes rems/_nav.html).
                "ketaclinic.rems.context.rems",
                "ketaclinic.scheduling.context.schedule_nav",
                # The top bar's worklist link (web/_top_bar.html includes safety/_nav.html).
                "ketaclinic.assessments.safety_context.worklist_nav",
                # The top bar's Prices link and the money links of the chart, plan and session.
                "ketaclinic.billing.context.billing",
            ],
        },
    },
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ketaclinic.web.context.navigation",
            ],
        },
    },
]


def _database() -> dict[str, object]:
    if CONFIG.database_url:
        db = dj_database_url.parse(CONFIG.database_url, conn_max_age=600, conn_health_checks=True)
        db.setdefault("TEST", {})
        return dict(db)
    return {
        # Django's SQLite backend whose writers queue on a lock file instead of sleeping in SQLite's busy
        # handler (ketaclinic/db/sqlite3/base.py).
        "ENGINE": "ketaclinic.db.sqlite3",
        # Created 0600 here, so SQLite's -wal and -shm files are 0600 too (config.private_data_dir).
        "NAME": _config.private_file(CONFIG.data_dir / _config.DATABASE_FILE),
        # Persistent connections: closing after each request costs about a third of write throughput.
        "CONN_MAX_AGE": 600,
        "OPTIONS": {
            # IMMEDIATE takes the write lock when a transaction starts, so two writers queue on
            # busy_timeout instead of failing to upgrade a read lock ("database is locked").
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            # Durable and concurrent: WAL with a sync on every commit (security-checks.md DU-01).
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; "
                "PRAGMA busy_timeout=20000; PRAGMA cache_size=-20000;"
            ),
        },
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# PBKDF2-HMAC-SHA256 is FIPS 140-2 approved (170.315(d)(12) attestation); Django's default iterations.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sessions live in the database so logout and disabling a user end them at once; the idle timeout is
# enforced server-side by IdleTimeoutMiddleware, the absolute lifetime by the cookie age.
SESSION_ENGINE = "ketaclinic.accounts.sessions"
AUTHENTICATION_BACKENDS = ["ketaclinic.accounts.sessions.StaffBackend"]
SESSION_COOKIE_AGE = CONFIG.session_max_hours * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = CONFIG.secure_cookies
CSRF_COOKIE_SECURE = CONFIG.secure_cookies
CSRF_COOKIE_HTTPONLY = True
# A refused CSRF check is audited and answered with a plain page that does not depend on the user.
CSRF_FAILURE_VIEW = "ketaclinic.web.csrf.csrf_failure"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
KETACLINIC_IDLE_TIMEOUT_SECONDS = CONFIG.idle_timeout_minutes * 60
KETACLINIC_LOGIN_FAILURE_LIMIT = CONFIG.login_failure_limit
KETACLINIC_LOGIN_LOCKOUT_SECONDS = CONFIG.login_lockout_minutes * 60
# Per client address (IPv6: its /64) and rate window: failed or refused sign-ins, and API requests
# refused for their token; over either limit the answer is 429 with Retry-After (accounts/throttle.py).
KETACLINIC_SIGNIN_RATE_PER_IP = CONFIG.signin_rate_per_ip
KETACLINIC_API_AUTH_FAILURES_PER_IP = CONFIG.api_auth_failures_per_ip
KETACLINIC_AUTH_RATE_WINDOW_SECONDS = CONFIG.auth_rate_window_minutes * 60
# Repeated failures are audited as at most one row per (kind, address) per window (audit/repeats.py).
KETACLINIC_AUDIT_REPEAT_WINDOW_SECONDS = CONFIG.audit_repeat_window_minutes * 60
# Days an API token works after it is made (the clinic's policy; default 90).
KETACLINIC_API_TOKEN_DAYS = CONFIG.api_token_days
KETACLINIC_DEMO = CONFIG.demo
# Roles whose staff must pass a second factor at sign-in (clinic admins and prescribers unless the clinic
# lists others, or none); anyone with an authenticator enrolled is asked for it whatever their role.
KETACLINIC_MFA_REQUIRED_ROLES = frozenset(CONFIG.mfa_required_roles)
# The name authenticator apps show beside the username.
OTP_TOTP_ISSUER = "KetaClinic"
# Each wrong code doubles the wait before the next try (1 s, 2 s, 4 s, ...) until a right one.
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
KETACLINIC_DATA_DIR = CONFIG.data_dir
KETACLINIC_AUDIT_WRITER = CONFIG.audit_writer
# Break-glass: an emergency read of another location's patient lasts this long (default 60 minutes) and
# needs a written reason of at least this many characters (default 20).
KETACLINIC_BREAK_GLASS_MINUTES = CONFIG.break_glass_minutes
KETACLINIC_BREAK_GLASS_REASON_MIN_CHARS = CONFIG.break_glass_reason_min_chars
# How long an API POST's answer is kept for a retry with the same Idempotency-Key (at least 24 hours).
KETACLINIC_IDEMPOTENCY_HOURS = CONFIG.idempotency_hours
# A patient portal invitation link works once, for this many hours (ketaclinic/portal).
KETACLINIC_PORTAL_INVITATION_HOURS = 72

# The task runner (Huey): a SQLite queue in the data folder, or Redis when KETACLINIC_REDIS_URL is set.
# `ketaclinic serve` (make run) starts its consumer beside the web workers; tasks live in
# ketaclinic/tasks.py and are idempotent, so a restart or a second run sends nothing twice.
# Created 0600 here, before Huey opens it in any process (its -wal and -shm files then are 0600 too).
KETACLINIC_TASKS_FILE = CONFIG.data_dir / _config.TASKS_FILE
if not CONFIG.redis_url:
    _config.private_file(KETACLINIC_TASKS_FILE)
HUEY: dict[str, object] = {
    "name": "ketaclinic",
    "immediate": CONFIG.task_runner_immediate,
    "utc": True,
    "consumer": {"workers": 1, "worker_type": "thread", "periodic": True, "flush_locks": True},
    **(
        {"huey_class": "huey.RedisHuey", "url": CONFIG.redis_url}
        if CONFIG.redis_url
        else {"huey_class": "huey.SqliteHuey", "filename": str(KETACLINIC_TASKS_FILE)}
    ),
}
# Patients' messages: e-mail through Django's backends, text messages through the pluggable sender.
KETACLINIC_PUBLIC_URL = CONFIG.public_url
KETACLINIC_SMS_SENDER = CONFIG.sms_sender
DEFAULT_FROM_EMAIL = CONFIG.mail_from
EMAIL_BACKEND = {
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
}.get(CONFIG.email_backend, CONFIG.email_backend)
EMAIL_FILE_PATH = CONFIG.data_dir / "outbox" / "mail"
EMAIL_HOST = CONFIG.smtp_host
EMAIL_PORT = CONFIG.smtp_port
EMAIL_HOST_USER = CONFIG.smtp_user
EMAIL_HOST_PASSWORD = CONFIG.smtp_password
EMAIL_USE_TLS = CONFIG.smtp_tls
EMAIL_TIMEOUT = 20

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# TLS at a reverse proxy (docs/deployment.md): off for the plain-HTTP demo, on with KETACLINIC_SECURE_COOKIES.
SECURE_HSTS_SECONDS = CONFIG.hsts_seconds
SECURE_HSTS_INCLUDE_SUBDOMAINS = CONFIG.hsts_seconds > 0 and CONFIG.hsts_include_subdomains
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if CONFIG.trust_x_forwarded_proto else None
SECURE_SSL_REDIRECT = CONFIG.ssl_redirect

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = CONFIG.data_dir / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_MAX_AGE = 3600
# Files the storages write into the data folder (collected static files) are the server user's only.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000_000
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

# Logs carry request ids, routes and status codes; never names, dates of birth or form values.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"no_phi": {"()": "ketaclinic.web.logging.RedactFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["no_phi"]}},
    "root": {"handlers": ["console"], "level": CONFIG.log_level},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.security": {"level": "WARNING"},
        # The task runner's consumer: its start-up banner and each task's start and end stay out of the
        # server's output; failures still show.
        "huey": {"level": "WARNING"},
    },
}

# FHIR bulk export (ketaclinic/fhir): its NDJSON files in the data folder, one resource type per file, a
# file split when it would pass the cap (HAPI's default, 100 MB); a status poll sooner than the wait it was
# told answers 429.
KETACLINIC_FHIR_EXPORT_DIR = CONFIG.data_dir / "fhir-exports"
KETACLINIC_FHIR_EXPORT_FILE_MAX_BYTES = 100 * 1024 * 1024
KETACLINIC_FHIR_EXPORT_POLL_SECONDS = 2
