from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    """Outcome analytics: a cohort's response, remission, attrition and durability of response, beside
    published figures whose definitions match. Aggregates only; it reads the treatment and assessment tables
    and has no tables of its own."""

    name = "ketaclinic.outcomes"
    label = "outcomes"
    verbose_name = "Outcome analytics"
