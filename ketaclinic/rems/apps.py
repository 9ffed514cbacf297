from django.apps import AppConfig


class RemsConfig(AppConfig):
    """Spravato REMS: the Patient Monitoring Form of each esketamine session (JSON and PDF), the queue of
    forms due per location and their submission.
    """

    name = "ketaclinic.rems"
    label = "rems"
    verbose_name = "Spravato REMS"
