"""A freshly installed KetaClinic in a throwaway data folder, for the round trip into an empty database.

It is driven as an operator drives an installation: the `ketaclinic` command in subprocesses, with the
production settings, its own SQLite database under `KETACLINIC_DATA_DIR` and its own secret key (nothing of
the test process's database, data folder or key is passed on). Its database is a copy of the empty database
migrated once per test session in the background (ketaclinic/tests/migrated.py), with that database's key.

Run as `python -m ketaclinic.fhir.tests.fresh_clinic setup|export` inside such an installation:

- `setup`: what a new clinic does first, through the accounts actions: its network, one location and one
  prescriber (who registers patients, records questionnaires and exports charts); prints how many networks,
  staff and patients it found before;
- `export`: a bulk export of every patient of the location, as the task runner runs one (exporter.run);
  prints the folder of its NDJSON files.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ketaclinic.tests import migrated

NETWORK, LOCATION, USER = "receiving", "west", "prescriber.west"
PASSWORD = "a long receiving password 7"


@dataclass
class Installation:
    """A data folder and the secret key its commands run with."""

    data_dir: Path
    key: str

    def run(self, *args: str, module: str = "ketaclinic", timeout: float = 120) -> str:
        """Run `python -m <module> args...` here; its output, or an error with what it printed."""
        command = [sys.executable, "-m", module, *args]
        env = migrated.environment(self.data_dir, self.key)
        done = subprocess.run(
            command, env=env, cwd=migrated.ROOT, capture_output=True, text=True, timeout=timeout, check=False
        )
        if done.returncode:
            raise AssertionError(f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done.stdout


def fresh(data_dir: Path) -> Installation:
    """An installation in `data_dir` whose database is a copy of the session's migrated one, with its key (the
    same installation's database, as a restored backup would be)."""
    migrated.copy_to(data_dir)
    return Installation(data_dir, migrated.template().key)


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
