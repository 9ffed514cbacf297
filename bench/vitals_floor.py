"""What a reading's SQL costs without the layers around it, and what each layer costs: for
bench/vitals_profile.py.

`statements_alone` is a view on bench/views.py's bare ninja API (the same stack as the bare insert: server
middleware, django-ninja, a pydantic body) that runs, on Django's plain cursor, the statements a keyless
reading runs (`POST /api/v1/sessions/{id}/vitals`), in the same order and transactions: the token's user and
memberships; the session, its plan, patient and location and the policy's stamp; then, holding the write
lock, the session again, its dose and the two reads of earlier readings, the reading's INSERT, the audit
chain's head bumped, two events hashed and inserted, the head's hash set, and the commit. Nothing else:
no access rule is judged, no clinical rule run, no model built. Its CPU against the bare insert's is how
much of a reading's cost its database work is; the rest is KetaClinic's layers, which `Layers` times.

The statements' texts are taken from a real reading (`capture`), so they are the product's own; when the
action's statements change, `capture` fails and says so, and FLOOR below is to be brought in line. It leaves
out the 1 reading in 8 whose alert adds an INSERT.
"""

import collections
import hashlib
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

# The start of each statement of a keyless reading, in order (BEGIN and COMMIT are not statements here).
FLOOR = (
    "SELECT * FROM accounts_user",
    "SELECT location_id, role FROM accounts_membership",
    "SELECT treatment_treatmentsession.",
    "SELECT treatment_treatmentplan.",
    "SELECT patients_patient.",
    "SELECT accounts_cliniclocation.",
    "SELECT stamp FROM clinicpolicy_locationpolicy",
    "BEGIN IMMEDIATE",
    "SELECT treatment_treatmentsession.",
    "SELECT treatment_dose.",
    "SELECT treatment_vitalsigns.",
    "SELECT treatment_vitalsigns.",
    'INSERT INTO "treatment_vitalsigns"',
    "UPDATE audit_chainhead SET seq",
    "INSERT INTO audit_auditevent",
    "UPDATE audit_chainhead SET hash",
)


def capture(post: Callable[[], object]) -> list[str]:
    """The texts of the statements `post` (one keyless reading without an alert) runs, checked against
    FLOOR."""
    from django.db import connection

    texts: list[str] = []

    def keep(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        texts.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        post()
    if len(texts) != len(FLOOR) or not all(t.startswith(f) for t, f in zip(texts, FLOOR, strict=True)):
        raise SystemExit(
            "bench/vitals_floor.py: a reading's statements are no longer FLOOR's; bring FLOOR and "
            "statements_alone in line:\n  " + "\n  ".join(t[:80] for t in texts)
        )
    return texts


def register(texts: list[str]) -> str:
    """Adds `statements_alone` to the bare ninja API (before its URLs are first read) and returns its path,
    with {id} for the session."""
    from django.db import connection, transaction
    from django.http import HttpRequest, JsonResponse
    from django.utils import timezone

    from bench.views import BareVitalsIn, bare_api
    from ketaclinic.accounts.actions import token_digest

    q = texts
    # The view's annotations are evaluated here, where django-ninja finds them (no postponed annotations in
    # this module: BareVitalsIn is a name local to this function).

    def stamp() -> str:
        return timezone.now().strftime("%Y-%m-%d %H:%M:%S.%f")

    @bare_api.post("/sessions/{session_id}/statements-alone")
    def statements_alone(request: HttpRequest, session_id: uuid.UUID, body: BareVitalsIn) -> JsonResponse:
        digest = token_digest(request.headers["Authorization"].removeprefix("Bearer "))
        sid = session_id.hex
        with connection.cursor() as c:
            c.execute(q[0], [True, digest, stamp()])
            user = c.fetchone()[0]
            c.execute(q[1], [user])
            c.fetchall()
            c.execute(q[2], [sid])
            session = c.fetchone()
            plan, patient, location = session[5], session[6], session[7]
            for i, key in ((3, plan), (4, patient), (5, location), (6, location)):
                c.execute(q[i], [key])
                c.fetchall()
        reading = body.model_dump()
        with transaction.atomic(), connection.cursor() as c:
            c.execute(q[8], [sid])
            c.fetchall()
            c.execute(q[9], [sid])
            doses = c.fetchall()
            c.execute(q[10], [sid, "any_time"])
            c.fetchall()
            # The latest reading at or before the dose (its started_at, the doses' ninth column), as the
            # action asks: bounded by now instead, it sorts every reading the session has.
            c.execute(q[11], [sid, doses[0][8] if doses else stamp()])
            c.fetchall()
            now = stamp()
            taken = reading["taken_at"].strftime("%Y-%m-%d %H:%M:%S")
            values = [
                reading[k] for k in ("systolic_mmhg", "diastolic_mmhg", "heart_rate_bpm", "spo2_percent")
            ]
            c.execute(q[12], [now, user, now, user, sid, taken, "any_time", *values])
            pk = c.fetchone()[0]
            c.execute(q[13], [2])
            seq, prev = c.fetchone()
            rows = []
            for n, (action, kind, key) in enumerate(
                (
                    ("session.chart", "VitalSigns", str(pk)),
                    ("patient.read", "TreatmentSession", str(session_id)),
                )
            ):
                row = [seq - 1 + n, now, user, None, action, "success", kind, key, patient, location]
                row += ['["taken_at"]', "api", str(uuid.uuid4()), "127.0.0.1", 1, prev]
                prev = hashlib.sha256(json.dumps(row, separators=(",", ":")).encode()).hexdigest()
                rows.append([*row, prev])
            c.executemany(q[14], rows)
            c.execute(q[15], [prev])
        return JsonResponse({"id": pk, **body.model_dump(mode="json"), "alerts": []}, status=201)

    return "/bench/api/sessions/{id}/statements-alone"


class Layers:
    """CPU (`process_time`) summed per layer of a request, by wrapping the layers' functions: a few
    microseconds of wrapping against a cProfile that inflates each Python call several times."""

    def __init__(self) -> None:
        from django.core.handlers.base import BaseHandler
        from ninja.operation import Operation

        from ketaclinic import prepared
        from ketaclinic.db.sqlite3.base import DatabaseWrapper
        from ketaclinic.treatment import actions
        from ketaclinic.treatment import api as treatment_api

        self.spent: collections.defaultdict[str, float] = collections.defaultdict(float)
        self.labels: list[str] = []
        for owner, name, label in (
            (BaseHandler, "get_response", "the request, after the test client"),
            (BaseHandler, "resolve_request", "URL resolution"),
            (Operation, "_run_authentication", "the bearer token"),
            (Operation, "_get_values", "the path and body parsed"),
            (treatment_api, "_session", "the access getter"),
            (actions, "do_record_vitals", "the action"),
            (actions, "session_policy", "action: the policy"),
            (prepared, "prepare", "action: the INSERT prepared"),
            (actions, "_lock_session", "action: the session locked"),
            (actions, "_flowsheet_so_far", "action: earlier readings"),
            (prepared, "send", "action: the INSERT sent"),
            (actions, "_raise_alert", "action: alerts raised"),
            (actions, "_chart_event", "action: the chart event built"),
            (actions, "event", "action: the read event built"),
            (actions, "append", "action: both events chained"),
            (DatabaseWrapper, "_commit", "action: the commit"),
            (treatment_api, "_created", "the answer"),
        ):
            self._wrap(owner, name, label)

    def _wrap(self, owner: Any, name: str, label: str) -> None:
        inner = getattr(owner, name)  # an AttributeError here: a layer was renamed; rename it above
        spent = self.spent
        self.labels.append(label)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return inner(*args, **kwargs)
            finally:
                spent[label] += time.process_time() - started

        setattr(owner, name, timed)

    def print(self, requests: int, total_ms: float) -> None:
        print(f"  the whole request, with the test client: {total_ms:.2f} ms")
        for label in self.labels:
            indent = "    " if label.startswith("action: ") else "  "
            print(f"{indent}{label}: {self.spent[label] / requests * 1000:.3f} ms")
