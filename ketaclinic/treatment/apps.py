from django.apps import AppConfig


class TreatmentConfig(AppConfig):
    """Treatment plans, their sessions and the treatment day: check-in, pre-dose checks, doses, vitals,
    observations, adverse events, discharge and sign-off.
    """

    name = "ketaclinic.treatment"
    label = "treatment"
    verbose_name = "Treatment"
