from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    """Eligibility screenings of a patient for a modality, prescribers' acknowledgements of their findings,
    and Spravato REMS patient enrolment.
    """

    name = "ketaclinic.screening"
    label = "screening"
    verbose_name = "Screening"
