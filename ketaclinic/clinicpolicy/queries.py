"""The clinic policy in force at a location, and what the clinic pages and API list."""

from __future__ import annotations

import functools
import json
import threading
from typing import TYPE_CHECKING, Any

from django.db import connection

from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.clinical.policy import DEFAULT_POLICY, ClinicPolicy, policy_from_json
from ketaclinic.clinicpolicy.models import Chair, LocationPolicy, PolicyChange
from ketaclinic.clinicpolicy.values import policy_of

if TYPE_CHECKING:
    from django.db.models import QuerySet

# location id -> (stamp of the overrides, the policy they make). Every request asks the database which
# stamp is in force (one small query) and builds the policy only when it changed.
_BUILT: dict[int, tuple[str, ClinicPolicy]] = {}
_LOCK = threading.Lock()
_STAMP_SQL = f"SELECT stamp FROM {LocationPolicy._meta.db_table} WHERE location_id = %s"  # noqa: S608 - table name from the model


def policy_for(location: ClinicLocation) -> ClinicPolicy:
    """The policy in force at `location`: the documented defaults plus the location's overrides.

    One query when the location's policy was built before in this process (the stamp of its last change);
    a second one to read the overrides when it changed since. A screening or session keeps the policy it
    was judged under (`policy_to_json`), so a change applies to new ones only.
    """
    # On every screening and session: a plain cursor, not a QuerySet, as accounts.access.grants does.
    with connection.cursor() as cursor:
        cursor.execute(_STAMP_SQL, [location.pk])
        found = cursor.fetchone()
    stamp = found[0] if found else ""
    if not stamp:
        return DEFAULT_POLICY
    built = _BUILT.get(location.pk)
    if built is not None and built[0] == stamp:
        return built[1]
    row = LocationPolicy.objects.filter(location_id=location.pk).values_list("stamp", "overrides").get()
    policy = policy_of(row[1])
    with _LOCK:
        _BUILT[location.pk] = (row[0], policy)
    return policy


def kept_policy(kept: dict[str, Any] | None, base: ClinicPolicy) -> ClinicPolicy:
    """The policy a session or screening kept when it began (`policy_to_json`'s values), over `base`."""
    return kept_policy_text(json.dumps(kept, sort_keys=True), base) if kept else base


@functools.lru_cache(maxsize=256)
def kept_policy_text(kept: str, base: ClinicPolicy) -> ClinicPolicy:
    """A kept policy from its JSON text, built once per distinct snapshot and base: building one takes about
    0.45 ms, on every reading charted and every session of the floor board, and a location's sessions mostly
    keep the same snapshot. The key is the whole input (ClinicPolicy is frozen)."""
    values = json.loads(kept)
    return policy_from_json(values, base) if values else base


def overrides_of(location: ClinicLocation) -> tuple[int, dict[str, object]]:
    """(version, overridden values) of the location's policy; (0, {}) when it was never changed."""
    row = LocationPolicy.objects.filter(location_id=location.pk).values_list("version", "overrides").first()
    return (row[0], dict(row[1])) if row else (0, {})


def policy_version(location: ClinicLocation) -> int:
    """The version of the location's policy (its ETag): 0 until the first change."""
    return overrides_of(location)[0]


def changes_of(location: ClinicLocation, limit: int = 20) -> QuerySet[PolicyChange]:
    """The latest changes of the location's policy, newest first, with who made them."""
    return (
        PolicyChange.objects.filter(location=location)
        .select_related("changed_by")
        .order_by("-version")[:limit]
    )


def chairs_of(location: ClinicLocation) -> QuerySet[Chair]:
    """The location's chairs and rooms, in use first, then by name."""
    return Chair.objects.filter(location=location).order_by("-active", "kind", "name")
