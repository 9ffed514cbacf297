from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    """Measurement-based care: questionnaire responses scored by the clinical library, the requests that
    ask a patient (or a clinician) for one, and the safety alerts a response raises.
    """

    name = "ketaclinic.assessments"
    label = "assessments"
    verbose_name = "Assessments"

    def ready(self) -> None:
        from ketaclinic.assessments.safety_views import chart_banners
        from ketaclinic.patients.views import add_chart_banners

        # The chart (patients, below this app) shows the open safety alerts as banners.
        add_chart_banners(chart_banners)
