from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    """Measurement-based care: questionnaire responses scored by the clinical library, the requests that
    ask a patient (or a clinician) for one, and the safety alerts a response raises.
    """

    name = "ketaclinic.assessments"
    label = "assessments"
    verbose_name = "Assessments"
