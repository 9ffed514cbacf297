from django.apps import AppConfig


class IdempotencyConfig(AppConfig):
    name = "ketaclinic.idempotency"
    label = "idempotency"
    verbose_name = "Idempotent API writes"
