from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The patient portal: patient accounts (apart from staff), their invitations and sign-in, and the
    patient's own pages: upcoming sessions with their preparation, questionnaires to answer, score history.
    """

    name = "ketaclinic.portal"
    label = "portal"
    verbose_name = "Patient portal"
