"""Whose outcomes a user may read: a location they hold OUTCOMES_READ at, their locations together, or the
whole network when they hold it at every location of the network. Denials are audited."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from ketaclinic.accounts.access import can, location_ids
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.context import Origin
from ketaclinic.audit.denials import deny
from ketaclinic.clinical.policy import DEFAULT_POLICY, ClinicPolicy
from ketaclinic.clinicpolicy.queries import policy_for
from ketaclinic.errors import Forbidden, NotFound

PERM = Perm.OUTCOMES_READ


@dataclass(frozen=True, slots=True)
class Scope:
    locations: list[ClinicLocation]
    network: bool  # the whole network (every location of it)
    label: str
    slug: str  # the location's slug, or "" for the network or the user's locations together


def network_wide(user: Any) -> bool:
    """True when the user holds OUTCOMES_READ at every location of their network."""
    network_id = getattr(user, "network_id", None)
    if network_id is None:
        return False
    all_ids = set(ClinicLocation.objects.filter(network_id=network_id).values_list("pk", flat=True))
    return bool(all_ids) and all_ids <= location_ids(user, PERM)


def choices(user: Any) -> list[ClinicLocation]:
    """The locations the user may pick, by name."""
    return list(ClinicLocation.objects.filter(pk__in=location_ids(user, PERM)).order_by("name"))


def get_scope_for(user: Any, slug: str, *, origin: Origin) -> Scope:
    """403 without the permission anywhere; 404 for a location not the user's to read (or not there)."""
    if not can(user, PERM):
        deny(user, origin, str(PERM))
        raise Forbidden
    if slug:
        place = ClinicLocation.objects.filter(network_id=user.network_id, slug=slug).first()
        if place is None or not can(user, PERM, place.pk):
            deny(user, origin, str(PERM))
            raise NotFound
        return Scope([place], network=False, label=place.name, slug=place.slug)
    places = choices(user)
    if network_wide(user):
        return Scope(places, network=True, label="Whole network", slug="")
    if len(places) == 1:
        return Scope(places, network=False, label=places[0].name, slug=places[0].slug)
    return Scope(places, network=False, label="Your locations", slug="")


# The policy fields the report's definitions read.
REPORT_FIELDS = ("madrs_remission_max", "loss_of_response_consecutive")


def policy_of(scope: Scope) -> tuple[ClinicPolicy, str]:
    """The policy the report applies, and a note when the locations' policies differ on its fields (then
    the documented defaults apply)."""
    policies = [policy_for(loc) for loc in scope.locations]
    if not policies:
        return DEFAULT_POLICY, ""
    first = policies[0]
    names = {f.name for f in fields(first)} & set(REPORT_FIELDS)
    if all(getattr(p, n) == getattr(first, n) for p in policies for n in names):
        return first, ""
    return DEFAULT_POLICY, (
        "The locations' policies differ on the MADRS remission cut-off or loss of response; this report "
        "applies the documented defaults."
    )
