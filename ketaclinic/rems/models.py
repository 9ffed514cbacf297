"""Spravato REMS records: each location's certified-setting details and each session's form submission."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.patients.models import Stamped


class RemsSetting(Stamped):
    """A location as a certified SPRAVATO REMS outpatient setting (reference 1.8), and the defaults its
    Patient Monitoring Forms start from.

    The `asks_*` flags choose the items of the form's sedation / dissociation part, whose exact list is
    UNVERIFIED in the reference: a clinic sets them to match the live form.
    """

    location = models.OneToOneField(ClinicLocation, on_delete=models.PROTECT, related_name="rems_setting")
    setting_name = models.CharField(max_length=120)
    address = models.CharField(max_length=250)
    certification_id = models.CharField("Certification / enrolment ID", max_length=60)
    authorised_representative = models.CharField(max_length=120)
    hcp_name = models.CharField("Monitoring HCP name", max_length=120, blank=True)
    hcp_phone = models.CharField("Monitoring HCP phone", max_length=30, blank=True)
    hcp_email = models.EmailField("Monitoring HCP email", max_length=254, blank=True)
    asks_sedation = models.BooleanField(default=True)
    asks_dissociation = models.BooleanField(default=True)
    asks_respiratory_depression = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return self.setting_name


class RemsSubmission(models.Model):
    """The submission of one session's Patient Monitoring Form to the REMS: once per session, never changed.

    `submitted_at` is when staff submitted it (online or by fax); `recorded_at` / `recorded_by` say who wrote
    it down here, and when.
    """

    session = models.OneToOneField(
        "treatment.TreatmentSession", on_delete=models.PROTECT, related_name="rems_submission"
    )
    submitted_at = models.DateTimeField()
    confirmation_number = models.CharField(max_length=60)
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(confirmation_number=""), name="rems_confirmation_present")
        ]

    def __str__(self) -> str:
        return self.confirmation_number
