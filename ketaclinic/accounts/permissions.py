"""Who may do what: the one reviewed table of roles and permissions.

A permission is granted per location: a nurse at north may read north's patients and nothing of south.
Change this file only with a review, and keep tests/test_permissions in step with it.
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models


class Role(models.TextChoices):
    CLINIC_ADMIN = "clinic_admin", "Clinic admin"
    PRESCRIBER = "prescriber", "Prescriber"
    NURSE = "nurse", "Nurse"
    THERAPIST = "therapist", "Therapist"
    FRONT_DESK = "front_desk", "Front desk / billing"


class Perm(StrEnum):
    PATIENT_READ = "patient.read"
    # Registering patients and keeping demographics, contact and intake history current.
    PATIENT_WRITE = "patient.write"
    # Break-glass: read one patient of another location of the network, for a limited time, with a reason
    # (ketaclinic/emergency). Clinicians who treat emergencies hold it; front desk and therapists do not.
    EMERGENCY_ACCESS = "patient.emergency_access"
    # Treatment (ketaclinic/treatment): prescribing a plan (create, approve, pause, change, end) is a
    # prescriber's; checking a patient in for a session is the front desk's as well as the clinicians';
    # charting the session (pre-dose checks, vitals, the dose, observations, adverse events, discharge,
    # sign-off, amendments) is the nurses' and prescribers'. Reading plans and sessions is PATIENT_READ.
    TREATMENT_PRESCRIBE = "treatment.prescribe"
    TREATMENT_CHECK_IN = "treatment.check_in"
    TREATMENT_CHART = "treatment.chart"
    AUDIT_READ = "audit.read"
    STAFF_MANAGE = "staff.manage"


ROLE_PERMISSIONS: dict[str, frozenset[Perm]] = {
    # Runs the clinic: staff, settings and the audit trail. Sees charts only if also given a clinical role.
    Role.CLINIC_ADMIN: frozenset({Perm.AUDIT_READ, Perm.STAFF_MANAGE}),
    Role.PRESCRIBER: frozenset(
        {
            Perm.PATIENT_READ,
            Perm.PATIENT_WRITE,
            Perm.EMERGENCY_ACCESS,
            Perm.TREATMENT_PRESCRIBE,
            Perm.TREATMENT_CHECK_IN,
            Perm.TREATMENT_CHART,
        }
    ),
    # Runs the treatment day: checks patients in, charts and discharges them; does not prescribe.
    Role.NURSE: frozenset(
        {
            Perm.PATIENT_READ,
            Perm.PATIENT_WRITE,
            Perm.EMERGENCY_ACCESS,
            Perm.TREATMENT_CHECK_IN,
            Perm.TREATMENT_CHART,
        }
    ),
    # Reads the chart to prepare and integrate sessions; the medical history is kept by others.
    Role.THERAPIST: frozenset({Perm.PATIENT_READ}),
    # Intake: registers patients and records the history the patient brings.
    # Checks patients in on arrival; never charts the treatment itself (no dose, vitals or discharge).
    Role.FRONT_DESK: frozenset({Perm.PATIENT_READ, Perm.PATIENT_WRITE, Perm.TREATMENT_CHECK_IN}),
}


def permissions_of(role: str) -> frozenset[Perm]:
    return ROLE_PERMISSIONS.get(role, frozenset())


# The permissions that open patient records: a role holding any of them reads PHI, so an admin may not
# grant it to themselves without a second admin (accounts/actions.py, do_request_role).
PHI_PERMISSIONS = frozenset(
    {
        Perm.PATIENT_READ,
        Perm.PATIENT_WRITE,
        Perm.EMERGENCY_ACCESS,
        Perm.TREATMENT_PRESCRIBE,
        Perm.TREATMENT_CHECK_IN,
        Perm.TREATMENT_CHART,
    }
)


def reads_phi(role: str) -> bool:
    return bool(permissions_of(role) & PHI_PERMISSIONS)
