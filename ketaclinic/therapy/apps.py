from django.apps import AppConfig


class TherapyConfig(AppConfig):
    """Ketamine-assisted psychotherapy: each patient's care team, preparation, integration, KAP and low-dose
    talk sessions, their templated notes (signed, then amended) and psychotherapy-note privacy."""

    name = "ketaclinic.therapy"
    label = "therapy"
    verbose_name = "Therapy"
