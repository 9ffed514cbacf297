from django.apps import AppConfig


class MessagingConfig(AppConfig):
    """Delivery to patients: e-mail through Django's backends, text messages through a pluggable sender,
    and the outbox that sends each message once.
    """

    name = "ketaclinic.messaging"
    label = "messaging"
    verbose_name = "Messaging"
