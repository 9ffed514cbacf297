from django.apps import AppConfig


class EmergencyConfig(AppConfig):
    """Break-glass: time-limited, reasoned, audited reads of another location's patient, and their review.

    It sits above patients and registers its grant check with patients.access.get_patient_for, which stays
    the one place patient access is decided.
    """

    name = "ketaclinic.emergency"
    label = "emergency"
    verbose_name = "Emergency access"

    def ready(self) -> None:
        from ketaclinic.emergency.access import read_under_grant
        from ketaclinic.patients.access import allow_emergency_reads

        allow_emergency_reads(read_under_grant)
