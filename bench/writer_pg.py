"""The audit writer on PostgreSQL: the chart page and the API read served with and without it.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wt_audit_bench python bench/writer_pg.py

The database must be a throwaway one: it is migrated and loaded with the demo clinic. Each mode is
served as `make run` serves it (`ketaclinic serve`, 2 workers x 4 threads) and loaded with wrk at 20
clients; the modes alternate (on, off, on, off...) so that a shared machine's drift hits both alike.
Env: BENCH_SECONDS (default 10) per run, BENCH_ROUNDS (default 2), BENCH_SKIP_SEED=1 to reuse the data.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
CLIENTS = 20
URL = os.environ.get("DATABASE_URL", "")
if not URL.startswith("postgres") or URL.rstrip("/").endswith("/test"):
    sys.exit("set DATABASE_URL to a throwaway PostgreSQL database (not the shared `test` one)")
DATA_DIR = Path(tempfile.mkdtemp(prefix="ketaclinic-writer-bench-"))
ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith("KETACLINIC_")},
    "KETACLINIC_DEMO": "1",
    "KETACLINIC_DATA_DIR": str(DATA_DIR),
    "DJANGO_SETTINGS_MODULE": "ketaclinic.settings",
}


def manage(*args: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "ketaclinic", *args],
        env=ENV,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def login(base: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{base}/login/") as page:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.read().decode())
    assert token is not None
    form = {"username": "nurse.north", "password": "ketaclinic-demo", "csrfmiddlewaretoken": token.group(1)}
    with opener.open(f"{base}/login/", data=urllib.parse.urlencode(form).encode()) as page:
        assert page.url.endswith("/patients/"), page.url
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def wrk(url: str, header: str) -> tuple[float, str, str]:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{CLIENTS}", f"-d{SECONDS}s", "--latency", "-H", header, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"50%\s+(\S+)", out).group(1)  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+(\S+)", out).group(1)  # type: ignore[union-attr]
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(out)
    return rps, p50, p99


def serve(mode: str, patient: str, token: str) -> dict[str, tuple[float, str, str]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "ketaclinic", "serve", "--port", str(port), "--audit-writer", mode]
    log = (DATA_DIR / f"serve-{mode}.log").open("wb")
    server = subprocess.Popen(command, env=ENV, cwd=ROOT, start_new_session=True, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/login/", timeout=2).close()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "the server did not start"
                time.sleep(0.2)
        cookie = login(base)
        return {
            "chart page": wrk(f"{base}/patients/{patient}/", f"Cookie: {cookie}"),
            "API patient read": wrk(f"{base}/api/v1/patients/{patient}", f"Authorization: Bearer {token}"),
        }
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=15)
        log.close()


def main() -> None:
    manage("collectstatic", "--noinput", "-v0")
    if not os.environ.get("BENCH_SKIP_SEED"):
        manage("migrate", "--noinput", "-v0")
        manage("load_demo")
    patient = manage(
        "shell",
        "-c",
        "from ketaclinic.patients.models import Patient;"
        "print(Patient.objects.filter(location__slug__contains='north').order_by('mrn').first().pk)",
    ).splitlines()[-1]
    token = manage("create_api_token", "nurse.north", "--name", "writer bench").strip().split()[-1]
    results: dict[tuple[str, str], list[tuple[float, str, str]]] = {}
    for _ in range(ROUNDS):
        for mode in ("on", "off"):
            for path, figures in serve(mode, patient, token).items():
                results.setdefault((path, mode), []).append(figures)
                print(mode, path, figures, flush=True)
    print("\n| path | writer | req/s (each run) | p50 | p99 |\n|---|---|--:|--:|--:|")
    for (path, mode), runs in results.items():
        rps = ", ".join(f"{r:.0f}" for r, _, _ in runs)
        p50 = " / ".join(p for _, p, _ in runs)
        p99 = " / ".join(p for *_, p in runs)
        print(f"| {path} | {mode} | {rps} | {p50} | {p99} |")


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(DATA_DIR, ignore_errors=True)
