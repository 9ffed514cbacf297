"""Instructions per request of the chart page, the patient search page and the bare three-query read, in
process, under valgrind's callgrind: a count that other work on a shared machine does not move, where
`time.process_time` moved by a third from one run to the next at a load of 6-10.

Run from the repository: `python bench/reads_instructions.py [ROW ...]` (rows: chart, search, bare; all
by default). It uses bench/reads_profile.py's seeded database (seeding it first if needed), and for each
row starts this file again under `valgrind --tool=callgrind --instr-atstart=no`, which warms the row with
60 requests uninstrumented, then counts 20. Needs valgrind (`apt-get install -y valgrind`); a row takes a
few minutes. Compare two checkouts by running it in each: the figures are the same from run to run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import reads_profile  # noqa: E402 - sets the environment reads_profile's database needs

WARM, COUNTED = 60, 20
ROWS = ("chart", "search", "bare")


def measured(row: str) -> None:
    """Inside valgrind: warm the row, then count COUNTED requests with instrumentation on."""
    import django

    django.setup()
    from django.test import Client

    from bench.inprocess import audit_events_encoded_only

    audit_events_encoded_only()
    seeded = json.loads((reads_profile.DATA / "seeded.json").read_text())
    web = Client()
    web.get("/login/")
    done = web.post("/login/", {"username": "nurse.north", "password": "ketaclinic-demo"})
    assert done.status_code == 302, done.status_code
    readable = seeded["readable"]
    searches = ("naka", "okafor", "bel", "ava", "jonah", "zeller")
    calls: dict[str, Callable[[int], Any]] = {
        "chart": lambda i: web.get(f"/patients/{readable[i % len(readable)]}/"),
        "search": lambda i: web.post("/patients/", {"q": searches[i % len(searches)]}),
        "bare": lambda i: web.get(f"/bench/chart/{readable[i % len(readable)]}/"),
    }
    call = calls[row]
    for i in range(WARM):
        assert call(i).status_code == 200, row
    switch = ["callgrind_control", "-i"]
    subprocess.run([*switch, "on", str(os.getpid())], check=True, capture_output=True)
    for i in range(COUNTED):
        call(i)
    subprocess.run([*switch, "off", str(os.getpid())], check=True, capture_output=True)


def count(row: str) -> float:
    """Millions of instructions per request of `row`."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "callgrind.out"
        command = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}"]
        command += [sys.executable, __file__, "--measured", row]
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
        totals = [line for line in out.read_text().splitlines() if line.startswith("totals:")]
        return int(totals[0].split()[1]) / COUNTED / 1e6


def main() -> None:
    if sys.argv[1:2] == ["--measured"]:
        measured(sys.argv[2])
        return
    import django

    django.setup()
    reads_profile.seeded()
    for row in sys.argv[1:] or ROWS:
        print(f"{row:8} {count(row):7.2f} M instructions a request", flush=True)


if __name__ == "__main__":
    main()
