from django.apps import AppConfig


class LedgerConfig(AppConfig):
    """The append-only ledger of controlled substances per location and product: receive, administer,
    waste, count and adjust.
    """

    name = "ketaclinic.ledger"
    label = "ledger"
    verbose_name = "Controlled-substance ledger"
