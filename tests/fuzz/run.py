"""`make fuzz`: schemathesis over the whole OpenAPI document, against the demo clinic served as `make run`.

It serves a throwaway demo clinic (migrate, collectstatic, load_demo, `ketaclinic serve`) on a free port,
makes an API token for a prescriber at north, and runs schemathesis with every check (`--checks all`) in the
examples, coverage and fuzzing phases for FUZZ_SECONDS (default 150). The path ids are drawn mostly from
the demo's own patients and entries, so the fuzzer reaches the writes and reads behind them and not only
the 404 of an id that does not exist. It fails when schemathesis reports a failure, or when the server
logged a traceback (a 500 that the fuzzer might have been told was fine).

Usage: python -m tests.fuzz.run [extra schemathesis options]   (FUZZ_SECONDS, FUZZ_SEED to vary)
What the configuration allows, and why, is in `config()` below.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from ketaclinic.web.tests.servers import free_port, server_env

ROOT = Path(__file__).resolve().parents[2]
PERSONA = "prescriber.north"  # reads and writes charts at north: every operation is open to this token
DEMO_PATIENTS = 6  # per location
START_SECONDS = 60.0
SECTIONS = (
    "conditions",
    "medications",
    "allergies",
    "substance_use",
    "antidepressant_trials",
    "measurements",
)


def _manage(env: dict[str, str], *args: str) -> str:
    command = [sys.executable, "-m", "ketaclinic", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=True).stdout


def _get(url: str, token: str) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def _wait_until_up(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{base}/login/", timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise SystemExit(f"the server did not answer within {START_SECONDS:.0f}s:\n{log.read_text()}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def _ids(base: str, token: str) -> tuple[list[str], list[str], list[int]]:
    """Patient ids for the fuzzer (most), a few kept apart for marking entered in error, and entry ids."""
    listed = _get(f"{base}/api/v1/patients?limit=100", token)["items"]
    patients = [p["id"] for p in listed if p["location"] == "north"]
    entries: set[int] = set()
    for patient in patients:
        for section in SECTIONS:
            entries.update(
                e["id"] for e in _get(f"{base}/api/v1/patients/{patient}/{section}", token)["items"]
            )
    return patients[2:], patients[:2], sorted(entries)


def config(patients: list[str], spare: list[str], entries: list[int]) -> str:
    """schemathesis.toml for the run. Each setting says which rule of the API it answers to."""
    lines = [
        # The demo's ids, most of the time; the rest of the time whatever the fuzzer makes (a 404).
        "[dictionaries.patients]",
        f"values = {json.dumps(patients)}",
        "[dictionaries.spare_patients]",
        f"values = {json.dumps(spare)}",
        "[dictionaries.entries]",
        f"values = {json.dumps(entries or [1])}",
        "[parameters]",
        '"path.patient_id" = { dictionary = "patients", probability = 0.9 }',
        '"path.entry_id" = { dictionary = "entries", probability = 0.9 }',
        # A missing If-Match is 428 Precondition Required (RFC 6585), the status made for it.
        "[checks.missing_required_header]",
        "expected-statuses = [400, 401, 403, 406, 415, 422, 428]",
        # An If-Match that is not the patient's current version is 412 Precondition Failed.
        "[[operations]]",
        'include-name = "PATCH /api/v1/patients/{patient_id}"',
        "checks.positive_data_acceptance.expected-statuses = ['2xx', 401, 403, 404, 409, 412, 422, 429]",
        # The treatment workflow's changes take an optional If-Match: one not current is 412.
        "[[operations]]",
        'include-path-regex = "^/api/v1/(treatment-plans|locations|sessions)/"',
        "checks.positive_data_acceptance.expected-statuses = ['2xx', 401, 403, 404, 409, 412, 422, 429]",
        # The care team's PUT takes an optional If-Match too (412 when not current), and refuses a member who
        # is not staff of the patient's location in a fitting role (422).
        "[[operations]]",
        'include-name = "PUT /api/v1/patients/{patient_id}/care-team"',
        "checks.positive_data_acceptance.expected-statuses = ['2xx', 401, 403, 404, 412, 422, 429]",
        # The ledger's since and until count in a location's days, so they need its location: a rule
        # between two query fields that the schema cannot state.
        "[[operations]]",
        'include-name = "GET /api/v1/ledger/events"',
        "checks.positive_data_acceptance.expected-statuses = ['2xx', 401, 403, 404, 422, 429]",
        # The outcome report's period: `to` on or after `from`, a rule between two query fields.
        "[[operations]]",
        'include-name = "GET /api/v1/outcomes"',
        "checks.positive_data_acceptance.expected-statuses = ['2xx', 401, 403, 404, 422, 429]",
        # Capacity is counted from a start within a year of today: a bound that moves with the day, which
        # the schema states in words only.
        "[[operations]]",
        'include-name = "GET /api/v1/schedule/capacity"',
        "checks.positive_data_acceptance.expected-statuses = ['2xx', 401, 403, 404, 422, 429]",
        # Marking entered in error is final: it gets patients of its own, so the others stay writable.
        "[[operations]]",
        'include-name = "POST /api/v1/patients/{patient_id}/entered-in-error"',
        "checks.positive_data_acceptance.expected-statuses = ['2xx', 401, 403, 404, 409, 422, 429]",
        'parameters = { "path.patient_id" = { dictionary = "spare_patients", probability = 0.9 } }',
        # Writes check what a JSON Schema cannot say: a date in the future, a field another one makes
        # required ("other_name" for drug "other", a reason for "entered in error", both halves of a blood
        # pressure), a registration already entered in error. Those answer 422 to a well-formed body.
        # Reads have no such rules: there any 422 to a valid request is a failure.
        # (The first [[operations]] entry that matches an operation applies: this one comes last.)
        "[[operations]]",
        'include-method = ["POST", "PATCH"]',
        "checks.positive_data_acceptance.expected-statuses = ['2xx', 401, 403, 404, 409, 422, 429]",
    ]
    return "\n".join(lines) + "\n"


def main(extra: list[str]) -> int:
    seconds = int(os.environ.get("FUZZ_SECONDS", "150"))
    data_dir = Path(tempfile.mkdtemp(prefix="ketaclinic-fuzz-"))
    env = {
        **server_env(data_dir),
        "PYTHONPATH": str(ROOT),
        # The run sends thousands of requests without a valid token (the ignored_auth check); the address
        # limit would turn them into 429s, which the check rightly does not take for a 401.
        "KETACLINIC_API_AUTH_FAILURES_PER_IP": "1000000",
        # A fuzzer draws the same Idempotency-Key for different requests; the hook gives each request with
        # a well-formed key a fresh one, as a real client does (docs/security.md, "Fuzzing the API").
        "SCHEMATHESIS_HOOKS": "ketaclinic.idempotency.tests.schemathesis_hooks",
    }
    _manage(env, "migrate", "--noinput", "-v0")
    _manage(env, "collectstatic", "--noinput", "-v0")
    _manage(env, "load_demo", "--patients", str(DEMO_PATIENTS))
    token = _manage(env, "create_api_token", PERSONA, "--name", "make fuzz").strip()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = data_dir / "server.log"
    command = [sys.executable, "-m", "ketaclinic", "serve", "--port", str(port), "--workers", "1"]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_until_up(base, proc, log)
        settings = data_dir / "schemathesis.toml"
        settings.write_text(config(*_ids(base, token)))
        fuzz = [
            str(Path(sys.executable).with_name("schemathesis")),
            "--config-file",
            str(settings),
            "run",
            f"{base}/api/openapi.json",
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            "all",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-time",
            str(seconds),
            # One worker: on Python 3.11.7 two threads of hypothesis can trip CPython's "AST constructor
            # recursion depth mismatch" (fixed in 3.11.8), an error of the fuzzer and not of the API.
            "--workers",
            "1",
            "--request-timeout",
            "20",
            "--no-color",
            "--generation-database",
            "none",
            *(["--seed", os.environ["FUZZ_SEED"]] if os.environ.get("FUZZ_SEED") else []),
            *extra,
        ]
        # In the data folder, so that schemathesis' own cache stays out of the work tree.
        result = subprocess.run(fuzz, env=env, cwd=data_dir, check=False, timeout=seconds + 600)
    finally:
        _stop(proc)
    served = log.read_text(errors="replace")
    if "Traceback" in served:
        print(f"The server logged a traceback during the run:\n{served[-6000:]}")
        return 1
    if result.returncode == 0:
        shutil.rmtree(data_dir, ignore_errors=True)
    else:
        print(f"The demo clinic's data and the server's log are kept in {data_dir}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
