from django.apps import AppConfig


class ConsentConfig(AppConfig):
    """Versioned consent documents per modality and patients' signed, witnessed consents."""

    name = "ketaclinic.consent"
    label = "consent"
    verbose_name = "Consent"
