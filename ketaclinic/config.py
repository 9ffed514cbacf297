"""KetaClinic's settings from the environment, in one typed place.

Every knob an operator can turn is read here once, with its default and the reason for it, so that
settings.py only maps these values onto Django's names.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DEMO_SECRET_MARKER = "demo-"
IDEMPOTENCY_MIN_HOURS = 24
HSTS_YEAR = 365 * 24 * 3600
# The data folder holds the SQLite database, the demo's secret key and the audit writer's socket: readable
# and writable by the server's user only. SQLite gives its -wal, -shm and -journal files the database
# file's mode, so a database file created 0600 keeps them 0600 whatever the umask of the process.
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
DATABASE_FILE = "ketaclinic.sqlite3"
# The task runner's queue (Huey's SQLite storage): its tasks name records, so it is private too.
TASKS_FILE = "tasks.sqlite3"
SQLITE_ENDINGS = ("", "-wal", "-shm", "-journal")
PRIVATE_FILES = (
    *(DATABASE_FILE + end for end in SQLITE_ENDINGS),
    *(TASKS_FILE + end for end in SQLITE_ENDINGS),
    "secret_key",
)
# What `ketaclinic` commands (and the servers they start) create is private too (ketaclinic/__main__.py).
PRIVATE_UMASK = 0o077

log = logging.getLogger(__name__)


class ConfigError(RuntimeError):
    """The environment asks for something KetaClinic refuses to run with."""


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return default if raw in (None, "") else int(raw)


def _bounded(name: str, default: int, low: int, high: int) -> int:
    value = _int(name, default)
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}")
    return value


def _at_least_one(name: str, default: int) -> int:
    value = _int(name, default)
    if value < 1:
        raise ConfigError(f"{name} must be 1 or more")
    return value


def _list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    return default if raw in (None, "") else [item.strip() for item in raw.split(",") if item.strip()]


@dataclass(frozen=True)
class Config:
    data_dir: Path
    database_url: str | None
    secret_key: str
    debug: bool
    demo: bool
    allowed_hosts: list[str]
    csrf_trusted_origins: list[str]
    secure_cookies: bool
    hsts_seconds: int
    hsts_include_subdomains: bool
    trust_x_forwarded_proto: bool
    ssl_redirect: bool
    idle_timeout_minutes: int
    session_max_hours: int
    login_failure_limit: int
    login_lockout_minutes: int
    signin_rate_per_ip: int
    api_auth_failures_per_ip: int
    auth_rate_window_minutes: int
    audit_repeat_window_minutes: int
    api_token_days: int
    log_level: str
    audit_writer: str
    break_glass_minutes: int
    break_glass_reason_min_chars: int
    mfa_required_roles: tuple[str, ...]
    idempotency_hours: int
    public_url: str
    redis_url: str
    task_runner_immediate: bool
    email_backend: str
    mail_from: str
    smtp_host: str
    smtp_port: int
    smtp_user: str
    smtp_password: str
    smtp_tls: bool
    sms_sender: str


def _secret_key(data_dir: Path, demo: bool) -> str:
    """The SECRET_KEY: from the environment, else one generated once into the data folder.

    A key file is only created for the demo clinic; outside it an operator must supply a key, and a key
    that is empty or marked as a demo key is refused.
    """
    given = os.environ.get("KETACLINIC_SECRET_KEY", "")
    if given:
        if not demo and (given.startswith(DEMO_SECRET_MARKER) or len(given) < 32):
            raise ConfigError(
                "KETACLINIC_SECRET_KEY is a demo or short key; set a random key of 32+ characters"
            )
        return given
    key_file = data_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    if not demo:
        raise ConfigError("KETACLINIC_SECRET_KEY is not set (only the demo clinic generates its own key)")
    key = DEMO_SECRET_MARKER + secrets.token_urlsafe(48)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


# HIPAA 164.312(d): the roles that must pass a second factor (TOTP or a recovery code) at every sign-in.
MFA_REQUIRED_BY_DEFAULT = ("clinic_admin", "prescriber")


def _mfa_required_roles(demo: bool) -> tuple[str, ...]:
    """The roles whose staff must sign in with a second factor; the other roles may enrol by choice.

    A clinic lists more roles (`nurse,therapist,front_desk`) or `none`. The demo clinic's personas sign in
    with the README's password alone unless KETACLINIC_DEMO_MFA=1 turns the policy on for them too.
    """
    raw = os.environ.get("KETACLINIC_MFA_REQUIRED_ROLES", "")
    if raw.strip().lower() == "none":
        return ()
    roles = tuple(_list("KETACLINIC_MFA_REQUIRED_ROLES", list(MFA_REQUIRED_BY_DEFAULT)))
    if demo and not _bool("KETACLINIC_DEMO_MFA", False):
        return ()
    return roles


def _idempotency_hours() -> int:
    """How long an API POST's answer is kept for retries: at least the 24 hours clients are promised."""
    hours = _int("KETACLINIC_IDEMPOTENCY_HOURS", IDEMPOTENCY_MIN_HOURS)
    if hours < IDEMPOTENCY_MIN_HOURS:
        raise ConfigError(f"KETACLINIC_IDEMPOTENCY_HOURS must be at least {IDEMPOTENCY_MIN_HOURS}")
    return hours


def private_data_dir(data_dir: Path) -> None:
    """Create the data folder 0700, or tighten a looser one of ours (and its files), with a warning.

    A folder this user does not own, or one meant to be shared (world-writable or sticky, like /tmp), is
    refused instead: KetaClinic's data needs a folder of its own, and chmod on a shared one would break
    other programs.
    """
    try:
        data_dir.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        info = data_dir.stat()
    except OSError as exc:
        raise ConfigError(f"cannot create the data folder {data_dir}: {exc.strerror}") from exc
    if info.st_mode & 0o077:
        shared = info.st_mode & (stat.S_ISVTX | stat.S_IWOTH) or info.st_uid != os.getuid()
        if shared:
            raise ConfigError(
                f"the data folder {data_dir} is open to other users (mode {stat.S_IMODE(info.st_mode):o}) "
                "and not KetaClinic's own: set KETACLINIC_DATA_DIR to a folder of its own"
            )
        data_dir.chmod(PRIVATE_DIR_MODE)
        log.warning("the data folder %s was open to other users; it is now 0700", data_dir)
    for name in PRIVATE_FILES:
        path = data_dir / name
        if path.exists() and path.stat().st_mode & 0o077:
            path.chmod(PRIVATE_FILE_MODE)
            log.warning("%s was open to other users; it is now 0600", path)


def private_file(path: Path) -> Path:
    """`path`, created empty and 0600 if it does not exist (an empty file is an empty SQLite database)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
    return path


def load() -> Config:
    # Set but empty means unset: Path("") would be whatever folder the command happens to run in.
    data_dir = Path(os.environ.get("KETACLINIC_DATA_DIR") or BASE_DIR / "var").resolve()
    private_data_dir(data_dir)
    demo = _bool("KETACLINIC_DEMO", False)
    secure = _bool("KETACLINIC_SECURE_COOKIES", False)
    return Config(
        data_dir=data_dir,
        database_url=os.environ.get("DATABASE_URL") or None,
        secret_key=_secret_key(data_dir, demo),
        debug=_bool("KETACLINIC_DEBUG", False),
        demo=demo,
        allowed_hosts=_list("KETACLINIC_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"]),
        csrf_trusted_origins=_list("KETACLINIC_CSRF_TRUSTED_ORIGINS", []),
        # TLS (docs/deployment.md). All off for plain-HTTP local use (make run on 127.0.0.1); any real
        # deployment is behind TLS. KETACLINIC_SECURE_COOKIES=1 is the one switch for the usual case, a
        # TLS reverse proxy: Secure cookies, HSTS for a year, and the proxy's X-Forwarded-Proto trusted.
        secure_cookies=secure,
        hsts_seconds=_int("KETACLINIC_HSTS_SECONDS", HSTS_YEAR if secure else 0),
        hsts_include_subdomains=_bool("KETACLINIC_HSTS_INCLUDE_SUBDOMAINS", True),
        trust_x_forwarded_proto=_bool("KETACLINIC_TRUST_X_FORWARDED_PROTO", secure),
        # The proxy usually redirects http:// itself; this makes Django do it too.
        ssl_redirect=_bool("KETACLINIC_SSL_REDIRECT", False),
        # HIPAA 164.312(a)(2)(iii) automatic logoff; 15 minutes is the safe default of security-checks.md.
        idle_timeout_minutes=_int("KETACLINIC_IDLE_TIMEOUT_MINUTES", 15),
        session_max_hours=_int("KETACLINIC_SESSION_MAX_HOURS", 12),
        login_failure_limit=_int("KETACLINIC_LOGIN_FAILURE_LIMIT", 5),
        login_lockout_minutes=_int("KETACLINIC_LOGIN_LOCKOUT_MINUTES", 15),
        # Per client address (IPv6: per /64), in each rate window: sign-in attempts that did not succeed,
        # and API requests refused for a missing or bad token. Over the limit the answer is 429. A clinic
        # behind one NAT shares the first; successful sign-ins do not use it up.
        signin_rate_per_ip=_at_least_one("KETACLINIC_SIGNIN_RATE_PER_IP", 20),
        api_auth_failures_per_ip=_at_least_one("KETACLINIC_API_AUTH_FAILURES_PER_IP", 20),
        auth_rate_window_minutes=_at_least_one("KETACLINIC_AUTH_RATE_WINDOW_MINUTES", 15),
        # Floods of failures are audited as one row per (kind, address) per this window, with a count.
        audit_repeat_window_minutes=_at_least_one("KETACLINIC_AUDIT_REPEAT_WINDOW_MINUTES", 15),
        # API tokens stop working this many days after they are made (ASVS: credentials expire); a new
        # token is one command away, a forgotten one is a standing key to the charts.
        api_token_days=_int("KETACLINIC_API_TOKEN_DAYS", 90),
        log_level=os.environ.get("KETACLINIC_LOG_LEVEL", "INFO"),
        # The Unix socket of the audit writer (ketaclinic/audit/server.py); `ketaclinic serve` sets it for
        # its workers. Empty: every process commits its own audit events.
        audit_writer=os.environ.get("KETACLINIC_AUDIT_WRITER", ""),
        # Break-glass (HIPAA 164.312(a)(2)(ii)): how long an emergency read of another location's patient
        # lasts, and the shortest reason accepted for it (ketaclinic/emergency).
        break_glass_minutes=_bounded("KETACLINIC_BREAK_GLASS_MINUTES", 60, 1, 24 * 60),
        break_glass_reason_min_chars=_bounded("KETACLINIC_BREAK_GLASS_REASON_MIN_CHARS", 20, 1, 500),
        mfa_required_roles=_mfa_required_roles(demo),
        idempotency_hours=_idempotency_hours(),
        # The address patients reach KetaClinic at: self-report links in e-mails and text messages start
        # with it (no trailing slash). Set it to the clinic's public https:// address in production.
        public_url=(os.environ.get("KETACLINIC_PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/"),
        # The task runner (ketaclinic/tasks.py, Huey): its queue in a SQLite file in the data folder by
        # default, in Redis when this is set (redis://host:6379/0; needs the `redis` package).
        redis_url=os.environ.get("KETACLINIC_REDIS_URL", ""),
        # Run tasks at once in the calling process instead of queueing them (tests, one-off scripts).
        task_runner_immediate=_bool("KETACLINIC_TASKS_IMMEDIATE", False),
        # E-mail to patients: files in <data folder>/outbox/mail by default (development); "smtp" sends
        # through KETACLINIC_SMTP_*; any other value is a Django e-mail backend's dotted path.
        email_backend=os.environ.get("KETACLINIC_EMAIL_BACKEND", "file"),
        mail_from=os.environ.get("KETACLINIC_MAIL_FROM", "KetaClinic <no-reply@localhost>"),
        smtp_host=os.environ.get("KETACLINIC_SMTP_HOST", "localhost"),
        smtp_port=_int("KETACLINIC_SMTP_PORT", 587),
        smtp_user=os.environ.get("KETACLINIC_SMTP_USER", ""),
        smtp_password=os.environ.get("KETACLINIC_SMTP_PASSWORD", ""),
        smtp_tls=_bool("KETACLINIC_SMTP_TLS", True),
        # Text messages: a class with send(to, body) (ketaclinic/messaging/senders.py); files in
        # <data folder>/outbox/sms by default.
        sms_sender=os.environ.get("KETACLINIC_SMS_SENDER", "ketaclinic.messaging.senders.FileSender"),
    )
