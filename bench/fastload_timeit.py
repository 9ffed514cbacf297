"""In-process cost of the hot-path reads through the ORM, .raw(), .values() and fastload (CPU, one thread).

Run from the repository: `python bench/fastload_timeit.py`. It migrates a throwaway SQLite database
(or DATABASE_URL's, when set: give it a throwaway database), loads the demo clinic with a 50-trial patient,
and prints microseconds per call. The figures are in ketaclinic/fastload.py's docstring.
"""

from __future__ import annotations

import os
import sys
import tempfile
import timeit
from collections.abc import Callable
from decimal import Decimal
from typing import Any

os.environ.setdefault("KETACLINIC_DATA_DIR", tempfile.mkdtemp(prefix="ketaclinic-timeit-"))
os.environ["KETACLINIC_DEMO"] = "1"
os.environ["DJANGO_SETTINGS_MODULE"] = "ketaclinic.settings"
sys.path.insert(0, str(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from ketaclinic import fastload  # noqa: E402
from ketaclinic.accounts.actions import token_digest  # noqa: E402
from ketaclinic.accounts.models import ApiToken, User  # noqa: E402
from ketaclinic.patients import actions, inputs  # noqa: E402
from ketaclinic.patients.models import AntidepressantTrial, EntryStatus, Patient, TrialOutcome  # noqa: E402

N = int(os.environ.get("TIMEIT_N", "2000"))


def us(fn: Callable[[], Any]) -> float:
    fn()
    return min(timeit.repeat(fn, number=N, repeat=3)) / N * 1e6


def main() -> None:
    call_command("migrate", verbosity=0)
    call_command("load_demo", "--patients", "3", verbosity=0)
    patient = Patient.objects.first()
    assert patient is not None
    actor = patient.created_by
    for _ in range(50):
        actions.do_add_history_entry(
            patient,
            inputs.TrialIn(
                drug="sertraline",
                max_daily_dose_mg=Decimal(100),
                weeks_at_dose=Decimal(8),
                adequate_dose=True,
                outcome=TrialOutcome.NONE,
                current_episode=True,
            ),
            actor=actor,
        )
    secret = actions_token(actor)
    digest = token_digest(secret)
    trials_sql = (
        f"SELECT * FROM {AntidepressantTrial._meta.db_table} WHERE patient_id = %s AND status <> %s "
        "ORDER BY status, created_at, id LIMIT 51"
    )
    pid = fastload.param(Patient, "id", patient.pk)
    now = fastload.param(ApiToken, "expires_at", timezone.now())
    token_sql = (
        f"SELECT * FROM {User._meta.db_table} WHERE is_active = %s AND id = (SELECT user_id FROM "
        f"{ApiToken._meta.db_table} WHERE digest = %s AND revoked_at IS NULL AND expires_at > %s)"
    )

    def user_by_two_fetch_one() -> User | None:
        token = fastload.fetch_one(ApiToken, digest=digest, revoked_at=None)
        assert token is not None  # made above
        return fastload.fetch_one(User, id=token.user_id, is_active=True)

    cases: dict[str, dict[str, Callable[[], Any]]] = {
        "patient by id": {
            "ORM filter().first()": lambda: Patient.objects.filter(pk=patient.pk).first(),
            "ORM .raw()": lambda: next(
                iter(Patient.objects.raw("SELECT * FROM patients_patient WHERE id = %s", [pid]))
            ),
            "fastload.fetch_one": lambda: fastload.fetch_one(Patient, id=patient.pk),
        },
        "50 trials of a chart": {
            "ORM filter().exclude()[:51]": lambda: list(
                AntidepressantTrial.objects.filter(patient=patient)
                .exclude(status=EntryStatus.ENTERED_IN_ERROR)
                .order_by("status", "created_at", "id")[:51]
            ),
            "ORM .values() (dicts)": lambda: list(
                AntidepressantTrial.objects.filter(patient=patient)
                .exclude(status=EntryStatus.ENTERED_IN_ERROR)
                .order_by("status", "created_at", "id")
                .values()[:51]
            ),
            "ORM .raw()": lambda: list(
                AntidepressantTrial.objects.raw(trials_sql, [pid, EntryStatus.ENTERED_IN_ERROR])
            ),
            "fastload.fetch": lambda: fastload.fetch(
                AntidepressantTrial,
                patient=patient.pk,
                status__ne=EntryStatus.ENTERED_IN_ERROR,
                order_by=("status", "created_at", "id"),
                limit=51,
            ),
        },
        "user by API token": {
            "ORM filter().first()": lambda: User.objects.filter(
                is_active=True, api_tokens__digest=digest, api_tokens__revoked_at=None
            ).first(),
            "ORM .raw() (one query)": lambda: next(iter(User.objects.raw(token_sql, [True, digest, now]))),
            "fastload, two fetch_one": user_by_two_fetch_one,
        },
    }
    for title, variants in cases.items():
        print(title)
        for name, fn in variants.items():
            print(f"  {name:32s} {us(fn):8.1f} us")


def actions_token(user: User) -> str:
    from ketaclinic.accounts.actions import do_create_api_token

    return do_create_api_token(user, name="bench", actor=user)[1]


if __name__ == "__main__":
    main()
