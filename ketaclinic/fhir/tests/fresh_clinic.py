"""A freshly installed KetaClinic in a throwaway data folder, for the round trip into an empty database.

It is driven as an operator drives an installation: the `ketaclinic` command in subprocesses, with the
production settings, its own SQLite database under `KETACLINIC_DATA_DIR` and its own secret key (nothing of
the test process's database, data folder or key is passed on). Migrating an empty database takes 30-40 s
here (Django renders the state of every migration), so a migrated one is built once per test session in the
background, as soon as collection shows the round trip will run (conftest.py), and each installation starts
from a copy of it: the database `ketaclinic migrate` makes, with no rows but the migrations' own.

Run as `python -m ketaclinic.fhir.tests.fresh_clinic setup|export` inside such an installation:

- `setup`: what a new clinic does first, through the accounts actions: its network, one location and one
  prescriber (who registers patients, records questionnaires and exports charts); prints how many networks,
  staff and patients it found before;
- `export`: a bulk export of every patient of the location, as the task runner runs one (exporter.run);
  prints the folder of its NDJSON files.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DATABASE = "ketaclinic.sqlite3"
NETWORK, LOCATION, USER = "receiving", "west", "prescriber.west"
PASSWORD = "a long receiving password 7"
MIGRATE_SECONDS = 600


@dataclass
class Installation:
    """A data folder and the secret key its commands run with."""

    data_dir: Path
    key: str = field(default_factory=lambda: secrets.token_urlsafe(48))

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KETACLINIC_") and k != "DATABASE_URL"}
        env.update(
            KETACLINIC_DATA_DIR=str(self.data_dir),
            KETACLINIC_SECRET_KEY=self.key,
            DJANGO_SETTINGS_MODULE="ketaclinic.settings",
            PYTHONPATH=str(ROOT),
            PYTHONUNBUFFERED="1",
        )
        return env

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "ketaclinic", *args]

    def run(self, *args: str, module: str = "ketaclinic", timeout: float = 120) -> str:
        """Run `python -m <module> args...` here; its output, or an error with what it printed."""
        command = [sys.executable, "-m", module, *args]
        done = subprocess.run(
            command, env=self.env(), cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
        )
        if done.returncode:
            raise AssertionError(f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def copy_to(self, data_dir: Path) -> Installation:
        """An installation in `data_dir` whose database is a copy of this one's (same key: the same
        installation's database, as a restored backup would be)."""
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        source = sqlite3.connect(self.data_dir / DATABASE)
        target = sqlite3.connect(data_dir / DATABASE)
        try:
            source.backup(target)  # reads the WAL too, unlike a file copy
        finally:
            source.close()
            target.close()
        return Installation(data_dir, self.key)


class Template:
    """An empty database migrated in the background: `ketaclinic migrate` in its own installation."""

    def __init__(self) -> None:
        self.installation = Installation(Path(tempfile.mkdtemp(prefix="ketaclinic-migrated-")))
        self.log = self.installation.data_dir / "migrate.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                self.installation.command("migrate", "--noinput", "-v0"),
                env=self.installation.env(),
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def fresh(self, data_dir: Path) -> Installation:
        """An installation in `data_dir` with a copy of the migrated database, once migrating has finished."""
        code = self.process.wait(timeout=MIGRATE_SECONDS)
        if code:
            raise AssertionError(f"migrate exited {code}:\n{self.log.read_text()}")
        return self.installation.copy_to(data_dir)

    def remove(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        shutil.rmtree(self.installation.data_dir, ignore_errors=True)


_template: Template | None = None


def template() -> Template:
    """The session's migrated database, started on first use."""
    global _template
    if _template is None:
        _template = Template()
    return _template


def remove_template() -> None:
    global _template
    if _template is not None:
        _template.remove()
        _template = None


# --- Inside an installation (python -m ketaclinic.fhir.tests.fresh_clinic ...) -----------------------------


def _setup() -> None:
    from ketaclinic.accounts import actions as accounts
    from ketaclinic.accounts.models import ClinicNetwork, User
    from ketaclinic.accounts.permissions import Role
    from ketaclinic.patients.models import Patient

    counts = (ClinicNetwork.objects.count(), User.objects.count(), Patient.objects.count())
    print("found {} networks, {} staff, {} patients".format(*counts))

    network = accounts.do_create_network("Receiving Clinic", NETWORK)
    location = accounts.do_create_location(network, "West Clinic", LOCATION, time_zone="America/Denver")
    user = accounts.do_create_staff(network, USER, PASSWORD, first_name="Wes", last_name="Prescriber")
    accounts.do_grant_role(user, location, Role.PRESCRIBER)


def _export() -> None:
    from ketaclinic.accounts.models import ClinicLocation, User
    from ketaclinic.fhir import exporter
    from ketaclinic.fhir.actions import do_request_export
    from ketaclinic.fhir.resources import TYPES

    location = ClinicLocation.objects.get(slug=LOCATION)
    job = do_request_export(
        actor=User.objects.get(username=USER),
        location_ids=[location.pk],
        group=location,
        types=list(TYPES),
        since=None,
        request_url=f"/fhir/R4/Group/{LOCATION}/$export",
    )
    exporter.run(job.pk)
    print(exporter.job_dir(job.pk))


def main(what: str) -> None:
    from ketaclinic.config import PRIVATE_UMASK

    os.umask(PRIVATE_UMASK)
    import django

    django.setup()
    {"setup": _setup, "export": _export}[what]()


if __name__ == "__main__":
    main(sys.argv[1])
