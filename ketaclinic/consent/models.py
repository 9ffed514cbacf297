"""Consent documents and patients' signed consents. Tables and constraints only.

Documents are kept per location and modality: each location answers to its own state's consent law and
its own medical director, and staff permissions are granted per location. Publishing a new version adds a
row; earlier versions stay, so every signed consent still points at the text the patient read.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from ketaclinic.clinical.common import Modality

MODALITY_CHOICES = [(m.value, m.value) for m in Modality]


class ConsentDocument(models.Model):
    location = models.ForeignKey("accounts.ClinicLocation", on_delete=models.PROTECT, related_name="+")
    modality = models.CharField(max_length=20, choices=MODALITY_CHOICES)
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField(max_length=20000)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["location", "modality", "version"], name="consent_document_version_once"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="consent_document_version_positive"),
            models.CheckConstraint(
                condition=Q(modality__in=[m.value for m in Modality]), name="consent_document_modality_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.modality} consent v{self.version}"


class Consent(models.Model):
    """A patient's signature on one version of a document, witnessed by the staff member who recorded it."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="consents")
    document = models.ForeignKey(ConsentDocument, on_delete=models.PROTECT, related_name="consents")
    signed_name = models.CharField(max_length=160)
    # The drawn signature as PNG bytes, when one was drawn.
    signature_png = models.BinaryField(null=True, blank=True)
    signed_at = models.DateTimeField()
    witnessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["patient", "-signed_at"], name="consent_latest")]
        constraints = [models.CheckConstraint(condition=~Q(signed_name=""), name="consent_signed_name_given")]

    def __str__(self) -> str:
        return f"consent {self.pk}"
