from django.apps import AppConfig


class FloorConfig(AppConfig):
    """The treatment-floor board: today's sessions per chair or room at a location, live."""

    name = "ketaclinic.floor"
    label = "floor"
    verbose_name = "Treatment floor"
