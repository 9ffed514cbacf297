from django.apps import AppConfig


class ClinicPolicyConfig(AppConfig):
    """Each location's clock (time zone), the clinic-policy values in force there, and its chairs and
    rooms.
    """

    name = "ketaclinic.clinicpolicy"
    label = "clinicpolicy"
    verbose_name = "Clinic policy"
