from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "ketaclinic.fhir"
    label = "fhir"
    verbose_name = "FHIR exchange"
    default_auto_field = "django.db.models.BigAutoField"
