"""Screenings, their acknowledgements and Spravato REMS patient enrolment. Tables and constraints only.

A screening is a stored judgement: the clinical library's decision and findings for one modality, the rule
set and clinic policy it was made under, and a fingerprint of the chart facts it read, so that a later
change to the chart shows the screening as stale. Every row here is appended; nothing is overwritten.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from ketaclinic.clinical.common import Modality
from ketaclinic.clinical.eligibility import Decision

MODALITY_CHOICES = [(m.value, m.value) for m in Modality]
DECISION_CHOICES = [(d.value, d.value) for d in Decision]


class Screening(models.Model):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="screenings")
    location = models.ForeignKey("accounts.ClinicLocation", on_delete=models.PROTECT, related_name="+")
    modality = models.CharField(max_length=20, choices=MODALITY_CHOICES)
    decision = models.CharField(max_length=20, choices=DECISION_CHOICES)
    # [{"rule_id", "level", "message", "sources": [...]}] in the library's order, highest level first.
    findings = models.JSONField(default=list)
    # {"adequate_failures", "is_trd", "mgh_score", "maudsley_score", "maudsley_band"}
    trd = models.JSONField(default=dict)
    ruleset_version = models.CharField(max_length=20)
    # The clinic policy in force when the screening ran (clinical.policy.policy_to_json).
    policy = models.JSONField(default=dict)
    # sha256 of the chart facts the screening read (screening.facts.fingerprint).
    facts_fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["patient", "modality", "-created_at"], name="screening_latest")]
        constraints = [
            models.CheckConstraint(
                condition=Q(modality__in=[m.value for m in Modality]), name="screening_modality_known"
            ),
            models.CheckConstraint(
                condition=Q(decision__in=[d.value for d in Decision]), name="screening_decision_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.modality} screening {self.pk}"


class Acknowledgement(models.Model):
    """A prescriber's written acknowledgement of one finding of a screening (once per rule)."""

    screening = models.ForeignKey(Screening, on_delete=models.PROTECT, related_name="acknowledgements")
    rule_id = models.CharField(max_length=60)
    reason = models.TextField(max_length=2000)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["screening", "rule_id"], name="acknowledgement_once_per_rule"),
            models.CheckConstraint(condition=~Q(reason=""), name="acknowledgement_reason_given"),
        ]

    def __str__(self) -> str:
        return f"acknowledgement {self.pk} of {self.rule_id}"


class RemsEnrolment(models.Model):
    """A patient's Spravato REMS enrolment as recorded by the setting. The latest row is the one in force;
    a correction is a new row, the earlier one kept."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="rems_enrolments")
    enrolled_on = models.DateField()
    rems_patient_id = models.CharField(max_length=40)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(rems_patient_id=""), name="rems_enrolment_id_given"),
        ]

    def __str__(self) -> str:
        return f"REMS enrolment {self.pk}"
