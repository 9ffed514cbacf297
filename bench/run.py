"""`make bench`: seed 10,000 patients, serve them exactly as `make run` does, and load the hot paths.

Each path is measured with wrk at 50 concurrent clients (req/s, p50, p99) and with one client (p50),
next to a baseline measured the same way on the same server just before it: a bare Django JSON view or a
bare three-query ORM read of the same chart data (bench/views.py). Absolute figures drift on a shared
machine; the ratios are what ../shared/engineering/performance.md sets targets on. Exits non-zero when the
server does not start or any request fails (non-2xx, socket error or timeout).

Our rows and their baselines are measured in alternating slices (baseline, ours, baseline, ours...), so
that a change in the machine's load during the row falls on both; beside req/s, each run records the
server's CPU time per request (user + system of every process of the server, from /proc), which other
people's work on a shared machine disturbs much less than req/s.

Env: BENCH_PATIENTS (default 10000; 100000 for the search rows' scaling check), BENCH_SECONDS (default
6) per 50-client measurement, BENCH_SLICES (default 3) slices it is cut into, BENCH_PORT (default: a free
port), BENCH_ONLY (a comma-separated list of words: only the rows whose name holds one of them run, with
their baselines).
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # bench.seed imports models, which need django.setup() first
    from bench.seed import Seeded


def _free_port() -> int:
    # granian binds with SO_REUSEPORT, so a busy port would not fail: it would share the traffic with
    # whatever else listens there. Ask the kernel for a port nobody holds.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "latest.md"
LUA = ROOT / "bench" / "wrk.lua"
PORT = int(os.environ.get("BENCH_PORT", "0")) or _free_port()
BASE = f"http://127.0.0.1:{PORT}"
SECONDS = int(os.environ.get("BENCH_SECONDS", "6"))
SLICES = max(1, int(os.environ.get("BENCH_SLICES", "3")))
SLICE_SECONDS = max(1, round(SECONDS / SLICES))
PATIENTS = int(os.environ.get("BENCH_PATIENTS", "10000"))
ONE_CLIENT_SECONDS = max(2, SECONDS // 2)
CLIENTS = 50
PERSONA, PASSWORD = "nurse.north", "ketaclinic-demo"
ONLY = [w.strip() for w in os.environ.get("BENCH_ONLY", "").split(",") if w.strip()]
SEARCHES = ("naka", "okafor", "bel", "ava", "jonah", "zeller")

# Everything runs against a throwaway data dir: never the developer's var/, never DATABASE_URL.
DATA_DIR = Path(tempfile.mkdtemp(prefix="ketaclinic-bench-"))
# BENCH_POSTGRES=1 serves the same rows from PostgreSQL (the database a clinic runs in production) instead
# of the single-file SQLite `make run` starts with: a throwaway database made on the server at
# BENCH_POSTGRES_SERVER for this run and dropped after it.
POSTGRES_SERVER = os.environ.get("BENCH_POSTGRES_SERVER", "postgres://postgres@127.0.0.1:5432").rstrip("/")
POSTGRES_DATABASE = f"ketaclinic_bench_{os.getpid()}" if os.environ.get("BENCH_POSTGRES") else None
ENV = {
    **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
    **({"DATABASE_URL": f"{POSTGRES_SERVER}/{POSTGRES_DATABASE}"} if POSTGRES_DATABASE else {}),
    "KETACLINIC_DEMO": "1",
    "KETACLINIC_DATA_DIR": str(DATA_DIR),
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "PYTHONPATH": str(ROOT),
    "KETACLINIC_LOG_LEVEL": "WARNING",
}


# The vitals rows' readings (systolic, diastolic, heart rate, SpO2): ordinary ones, and one in eight with SpO2
# under the alert level, which raises an alert.
READINGS = (
    (126, 80, 72, 98),
    (131, 84, 76, 97),
    (122, 78, 70, 99),
    (128, 82, 74, 98),
    (135, 86, 80, 96),
    (124, 79, 68, 98),
    (129, 83, 75, 97),
    (127, 81, 73, 89),
)


def database_name() -> str:
    return f"PostgreSQL ({POSTGRES_DATABASE})" if POSTGRES_DATABASE else "SQLite"


def create_database() -> None:
    """Make this run's throwaway PostgreSQL database (BENCH_POSTGRES=1); nothing to do on SQLite."""
    if POSTGRES_DATABASE is None:
        return
    import psycopg

    with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as server:
        server.execute(f'CREATE DATABASE "{POSTGRES_DATABASE}"')  # a name made above, not input


def discard() -> None:
    """Remove this run's data folder, and its PostgreSQL database if it made one."""
    shutil.rmtree(DATA_DIR, ignore_errors=True)
    if POSTGRES_DATABASE is None:
        return
    import psycopg

    with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{POSTGRES_DATABASE}" WITH (FORCE)')


@dataclass
class Load:
    """What wrk sends; written as a spec file for bench/wrk.lua."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    bodies: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    update: bool = False  # each client owns a patient and sends If-Match with its last ETag
    # Each request gets its own moment, put for {taken_at} in the body, and its own {key} in the headers
    # (the Idempotency-Key): a minute of moments per wrk run, from the seeded clock on (bench/wrk.lua).
    timed: bool = False


@dataclass
class Result:
    rps: float
    p50: float  # ms
    p99: float  # ms
    errors: int
    cpu: float = 0.0  # ms of server CPU (every process of the server, user + system) per request
    requests: int = 0
    seconds: float = 0.0

    @staticmethod
    def combine(slices: list[Result]) -> Result:
        """Slices of one measurement as one: req/s and CPU over all of them; p50 the median of the slices'
        p50s, p99 the highest of their p99s."""
        requests = sum(r.requests for r in slices)
        seconds = sum(r.seconds for r in slices)
        p50s = sorted(r.p50 for r in slices)
        return Result(
            rps=requests / seconds if seconds else 0.0,
            p50=p50s[len(p50s) // 2],
            p99=max(r.p99 for r in slices),
            errors=sum(r.errors for r in slices),
            cpu=sum(r.cpu * r.requests for r in slices) / requests if requests else 0.0,
            requests=requests,
            seconds=seconds,
        )


TICK = os.sysconf("SC_CLK_TCK")
SERVER_PID = 0  # set by main(): the server command; granian, its workers and the writer descend from it


def server_cpu_seconds() -> float:
    """User + system CPU seconds used so far by the server process and all its live descendants, but the
    task runner's consumer.

    Found by parent id, since granian starts its workers in a session of their own. The server's
    processes live as long as the server, so the difference between two readings is what the server
    spent in between (a worker that died in between would be missed, and the row would fail).
    """
    parent: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                stat = f.read()
        except OSError:  # the process has just exited
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        pid = int(entry.name)
        parent[pid] = int(fields[1])  # ppid
        ticks[pid] = int(fields[11]) + int(fields[12])  # utime, stime
    total = 0
    for pid, used in ticks.items():
        ancestor, tasks = pid, False
        while ancestor > 1 and ancestor != SERVER_PID:
            tasks = tasks or _is_task_runner(ancestor)
            ancestor = parent.get(ancestor, 0)
        if ancestor == SERVER_PID and not tasks:
            total += used
    return total / TICK


_TASK_RUNNER: dict[int, bool] = {}


def _is_task_runner(pid: int) -> bool:
    """Is this the task runner's consumer (`ketaclinic run_huey`, which `serve` starts beside the server)?

    Its periodic tasks (reminders, schedules: several seconds of CPU every five minutes over 10,000
    patients) serve no request: counted, they fell on whichever row was measured at the time.
    """
    if pid not in _TASK_RUNNER:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                _TASK_RUNNER[pid] = b"run_huey" in f.read()
        except OSError:
            _TASK_RUNNER[pid] = False
    return _TASK_RUNNER[pid]


class Wrk:
    def __init__(self, writable: list[str], clock: int = 0) -> None:
        self.writable = writable  # patients never updated yet: every update client gets a fresh one
        self.failures = 0
        self.clock = clock  # epoch seconds: the next timed run's first moment
        self.runs = 0

    def _spec(self, load: Load, clients: int) -> Path:
        lines = [f"method {load.method}", f"path {load.path}"]
        lines += [f"header {k}: {v}" for k, v in load.headers.items()]
        lines += [f"body {b}" for b in load.bodies]
        self.runs += 1
        if load.timed:  # a minute of its own per run: at most 600,000 requests a client, far beyond any run
            lines += [f"clock {self.clock}", f"tag r{self.runs}"]
            self.clock += 60
        if load.update:
            from ketaclinic.patients.models import Patient

            mine, self.writable = self.writable[:clients], self.writable[clients:]
            rows = Patient.objects.filter(pk__in=mine).values_list("pk", "version")
            versions = {str(pk): version for pk, version in rows}
            lines += [f'id {pk} "{versions[pk]}"' for pk in mine]
        else:
            lines += [f"id {pk}" for pk in load.ids]
        spec = DATA_DIR / "spec.txt"
        spec.write_text("\n".join(lines) + "\n")
        return spec

    def measure(self, load: Load, clients: int, seconds: int) -> Result:
        # An update client must be alone on its wrk thread (the thread's Lua state holds its ETag), so
        # every path, baselines included, runs one wrk thread per connection: all measured the same way.
        cmd = ["wrk", f"-t{clients}", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s", "-s", str(LUA)]
        cmd += [BASE, "--", str(self._spec(load, clients))]
        cpu_before = server_cpu_seconds()
        out = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=seconds + 60)
        cpu = server_cpu_seconds() - cpu_before
        line = next((x for x in out.stdout.splitlines() if x.startswith("BENCH ")), None)
        if line is None:
            raise RuntimeError(f"wrk failed: {out.stdout}{out.stderr}")
        raw = json.loads(line.removeprefix("BENCH "))
        # A run where nothing completed has no latency to report: count it as a failure too.
        errors = raw["non2xx"] + raw["socket_errors"] + (raw["requests"] == 0)
        self.failures += errors
        drain()  # not counted in the CPU: what wrk left queued is served before the next run starts
        requests, seconds = raw["requests"], raw["duration_us"] / 1e6
        per_request = cpu * 1e3 / requests if requests else 0.0
        p50, p99 = raw["p50_us"] / 1e3, raw["p99_us"] / 1e3
        return Result(requests / seconds, p50, p99, errors, per_request, requests, seconds)

    def both(self, load: Load) -> tuple[Result, Result]:
        """50 clients, then one client."""
        return self.measure(load, CLIENTS, SECONDS), self.measure(load, 1, ONE_CLIENT_SECONDS)

    def paired(self, baseline: Load, ours: Load) -> tuple[Result, Result, Result]:
        """The baseline and our row in alternating slices at 50 clients, then ours with one client: the
        baseline's result, ours, and ours with one client."""
        base_slices, our_slices = [], []
        for _ in range(SLICES):
            base_slices.append(self.measure(baseline, CLIENTS, SLICE_SECONDS))
            our_slices.append(self.measure(ours, CLIENTS, SLICE_SECONDS))
        one = self.measure(ours, 1, ONE_CLIENT_SECONDS)
        return Result.combine(base_slices), Result.combine(our_slices), one


def weekly_phq9_answers(week: int) -> list[int]:
    """The PHQ-9 answers of a synthetic patient's week of care (the assessment and timeline benches): a fall
    over the first twelve weeks of induction, then maintenance drifting between two levels every 26 weeks;
    item 9 always 0."""
    left = max(0.15, 1 - week / 12) if week < 60 else 0.25 + 0.1 * ((week // 26) % 2)
    return [min(3, round(2.6 * left + (i % 3 - 1) * 0.4)) for i in range(8)] + [0]


def setup_demo() -> None:
    """In this process, as `make run` does: migrate, collect static files and load the demo clinic (the
    assessment and timeline benches add their patients to it)."""
    os.environ.pop("DATABASE_URL", None)
    os.environ.update(ENV)
    create_database()
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    from django.utils import timezone

    from ketaclinic.demo import data as demo

    demo.load(timezone.localdate())


def prepare() -> Seeded:
    """Migrate, collect static files (pages need the manifest) and seed, in this process."""
    sys.path.insert(0, str(ROOT))
    os.environ.pop("DATABASE_URL", None)
    os.environ.update(ENV)
    create_database()
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    from bench.seed import seed

    started = time.monotonic()
    seeded = seed(PATIENTS)
    print(f"seeded {PATIENTS:,} patients in {time.monotonic() - started:.0f} s into {DATA_DIR}", flush=True)
    from django.db import connections

    connections.close_all()  # the server processes open their own
    return seeded


def server_command() -> list[str]:
    """The `make run` server command line, read from the Makefile so the two cannot drift apart."""
    rule = "bench-print-serve: ; @echo $(SERVE)"
    args = ["make", "-s", "--no-print-directory", f"PORT={PORT}", "--eval", rule, "bench-print-serve"]
    out = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=True)
    return shlex.split(out.stdout.strip())


def drain() -> None:
    """Wait for the requests wrk left queued in the server when it stopped, so the next run starts idle."""
    with urllib.request.urlopen(f"{BASE}/bench/json/", timeout=60) as response:
        response.read()


def wait_until_up(server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with status {server.returncode}")
        try:
            with urllib.request.urlopen(f"{BASE}/bench/json/", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("the server did not answer within 60 s")


def login() -> tuple[str, str]:
    """Log in through the real form; return the Cookie header and the CSRF token of the search form."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def csrf(html: str) -> str:
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        if match is None:
            raise RuntimeError("no CSRF token on the page")
        return match.group(1)

    with opener.open(f"{BASE}/login/") as page:
        token = csrf(page.read().decode())
    form = {"username": PERSONA, "password": PASSWORD, "csrfmiddlewaretoken": token}
    with opener.open(f"{BASE}/login/", data=urllib.parse.urlencode(form).encode()) as page:
        if not page.url.endswith("/patients/"):  # a good login redirects to the patient list
            raise RuntimeError(f"login as {PERSONA} failed (landed on {page.url})")
        token = csrf(page.read().decode())  # login rotates the CSRF token
    return "; ".join(f"{c.name}={c.value}" for c in jar), token


def ms(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def run(seeded: Seeded, cookie: str, csrf: str) -> tuple[str, int]:
    """Measure everything; return the results as markdown and the number of failed requests."""
    bearer = {"Authorization": f"Bearer {seeded.token}"}
    session = {"Cookie": cookie}  # one logged-in nurse shared by all clients: sessions are per user
    form = {**session, "Content-Type": "application/x-www-form-urlencoded"}
    api_json = {**bearer, "Content-Type": "application/json"}
    phones = ['{"phone": "555-0300"}', '{"phone": "555-0301"}']  # alternate, so every PATCH changes the row
    charting = seeded.charting
    nurse = {"Authorization": f"Bearer {charting.token}", "Content-Type": "application/json"}
    vitals = [
        json.dumps(
            {
                "taken_at": "{taken_at}",
                "systolic_mmhg": s,
                "diastolic_mmhg": d,
                "heart_rate_bpm": h,
                "spo2_percent": o,
            }
        )
        for s, d, h, o in READINGS
    ]
    # Baselines send no cookie or token: they measure the bare stack, not a logged-in request.
    baselines = {
        "bare JSON view": Load("GET", "/bench/json/"),
        "bare three-query read": Load("GET", "/bench/chart/{id}/", ids=seeded.readable),
        "bare ninja insert": Load(
            "POST",
            "/bench/api/sessions/{id}/vitals",
            {"Content-Type": "application/json"},
            vitals,
            ids=charting.baseline_sessions,
            timed=True,
        ),
    }
    ours = {
        "patient search (web)": (
            "bare three-query read",
            Load("POST", "/patients/", form, [f"csrfmiddlewaretoken={csrf}&q={q}" for q in SEARCHES]),
        ),
        "patient search (API)": (
            "bare three-query read",
            Load("POST", "/api/v1/patients/search", api_json, [json.dumps({"q": q}) for q in SEARCHES]),
        ),
        "chart page": ("bare three-query read", Load("GET", "/patients/{id}/", session, ids=seeded.readable)),
        "patient API read": (
            "bare three-query read",
            Load("GET", "/api/v1/patients/{id}", bearer, ids=seeded.readable),
        ),
        "patient API update": (
            "bare JSON view",
            Load("PATCH", "/api/v1/patients/{id}", api_json, phones, update=True),
        ),
        "vitals (API)": (
            "bare ninja insert",
            Load(
                "POST",
                "/api/v1/sessions/{id}/vitals",
                {**nurse, "Idempotency-Key": "{key}"},
                vitals,
                ids=charting.sessions,
                timed=True,
            ),
        ),
        # The same without a key: the write's transaction is the action's alone, not the whole request's.
        "vitals (API, no key)": (
            "bare ninja insert",
            Load("POST", "/api/v1/sessions/{id}/vitals", nurse, vitals, ids=charting.sessions, timed=True),
        ),
    }
    flat_paths = {
        "chart page": ("/patients/{id}/", session),
        "patient API read": ("/api/v1/patients/{id}", bearer),
    }
    if ONLY:  # a developer's partial run: the chosen rows and the baselines they are compared with
        ours = {name: row for name, row in ours.items() if any(w in name for w in ONLY)}
        flat_paths = {name: row for name, row in flat_paths.items() if any(w in name for w in ONLY)}
        wanted = {baseline for baseline, _ in ours.values()}
        baselines = {name: load for name, load in baselines.items() if name in wanted}

    wrk = Wrk(list(seeded.writable), charting.clock)
    for load in [*baselines.values(), *(load for _, load in ours.values())]:
        wrk.measure(load, CLIENTS, 1)  # warm both workers: imports, template cache, SQLite page cache
    wrk.failures = 0  # a failing path fails again below, where it is reported

    results = {name: wrk.both(load) for name, load in baselines.items()}
    paired = {}  # the baseline again, alternating with each row: the shared machine drifts within a run
    for name, (baseline, load) in ours.items():
        paired[name], many, one = wrk.paired(baselines[baseline], load)
        results[name] = many, one
        print(
            f"  {name}: {many.rps:.0f} req/s, {many.cpu:.2f} ms CPU a request "
            f"({baseline}: {paired[name].rps:.0f} req/s, {paired[name].cpu:.2f} ms)",
            flush=True,
        )
    flat = {}  # (path, history) -> (the 5-entry patient alongside, this patient, this one with one client)
    small_one = {}  # path -> the 5-entry patient with one client
    for name, (path, headers) in flat_paths.items():
        small = Load("GET", path, headers, ids=[seeded.flat["5"]])
        small_one[name] = wrk.measure(small, 1, ONE_CLIENT_SECONDS)
        for history, pk in seeded.flat.items():
            if history == "5":
                continue
            flat[name, history] = wrk.paired(small, Load("GET", path, headers, ids=[pk]))
            r = flat[name, history][1]
            print(f"  {name}, {history}: {r.rps:.0f} req/s, {r.cpu:.2f} ms CPU a request", flush=True)

    lines = [
        "| path | baseline | baseline req/s | ours req/s | ratio | baseline CPU ms | ours CPU ms | CPU ratio "
        "| p50 ms | p99 ms | 1-client p50 ms | errors |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for name, (r, one) in results.items():
        if name in baselines:
            cells = [name, "—", "—", f"{r.rps:.0f}", "—", "—", f"{r.cpu:.2f}", "—"]
        else:
            b = paired[name]
            cells = [name, ours[name][0], f"{b.rps:.0f}", f"{r.rps:.0f}", f"{r.rps / b.rps:.0%}"]
            cells += [f"{b.cpu:.2f}", f"{r.cpu:.2f}", f"{b.cpu / r.cpu:.0%}" if r.cpu else "—"]
        cells += [ms(r.p50), ms(r.p99), ms(one.p50), str(r.errors + one.errors)]
        lines.append(f"| {' | '.join(cells)} |")
    lines += [
        "",
        "Cost as a patient's history grows, against the same page for a patient with 5 entries measured in "
        "alternating slices with it (target: at most 1.5x):",
        "",
        "| path | history entries | 5-entry req/s | req/s | 5-entry CPU ms | CPU ms | p50 ms | p99 ms "
        "| 5-entry 1-client p50 ms | 1-client p50 ms | cost (req/s) | cost (CPU) | cost (1-client p50) "
        "| errors |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for (name, history), (five, r, one) in flat.items():
        alone = small_one[name]
        cells = [name, history, f"{five.rps:.0f}", f"{r.rps:.0f}", f"{five.cpu:.2f}", f"{r.cpu:.2f}"]
        cells += [ms(r.p50), ms(r.p99), ms(alone.p50), ms(one.p50), f"{five.rps / r.rps:.2f}x"]
        cells += [f"{r.cpu / five.cpu:.2f}x" if five.cpu else "—", f"{one.p50 / alone.p50:.2f}x"]
        cells.append(str(five.errors + r.errors + one.errors + alone.errors))
        lines.append(f"| {' | '.join(cells)} |")
    return "\n".join(lines), wrk.failures


def stop(server: subprocess.Popen[bytes]) -> None:
    """The server and its workers form one process group, started by main(): stop exactly that group."""
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
    except ProcessLookupError:  # it had already exited
        pass


def main() -> int:
    global SERVER_PID
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install -y wrk)", file=sys.stderr)
        return 2
    try:
        seeded = prepare()
        command = server_command()
        server = subprocess.Popen(command, cwd=ROOT, env=ENV, start_new_session=True)
        SERVER_PID = server.pid
    except Exception:
        discard()
        raise
    # make's Ctrl-C raises KeyboardInterrupt; turn a plain kill into SystemExit too, so `finally` runs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        wait_until_up(server)
        table, failures = run(seeded, *login())
    except (RuntimeError, OSError) as exc:  # server down, login refused, wrk missing output
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    finally:
        stop(server)
        discard()

    revision = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    header = (
        f"`make bench` at {revision or 'unknown revision'}, {time.strftime('%Y-%m-%d %H:%M')}: {PATIENTS:,} "
        f"patients, {CLIENTS} clients for {SECONDS} s (each row alternating with its baseline in {SLICES} "
        f"slices of {SLICE_SECONDS} s) and one client for {ONE_CLIENT_SECONDS} s per row, "
        f"{os.cpu_count()} cores, {database_name()}. Server: `{' '.join(command)}`, "
        "DJANGO_SETTINGS_MODULE=bench.settings."
    )
    print(f"\n{header}\n\n{table}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(f"# Latest bench\n\n{header}\n\n{table}\n")
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")
    if failures:
        print(f"FAILED: {failures} requests failed (non-2xx, socket error or timeout)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
