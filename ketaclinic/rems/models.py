"""Spravato REMS records: each location's certified-setting details (more rows join as the workflow lands)."""

from __future__ import annotations

from django.db import models

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
