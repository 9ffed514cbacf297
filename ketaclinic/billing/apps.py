from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "ketaclinic.billing"
    label = "billing"
    verbose_name = "Costs and billing"

    def ready(self) -> None:
        # A booking of a session beyond the approved count of its plan's prior authorisation says so in the
        # booking's answer (scheduling calls the registered notes; it does not import billing).
        from ketaclinic.billing.authorizations import booking_note
        from ketaclinic.scheduling.notes import register

        register(booking_note)
