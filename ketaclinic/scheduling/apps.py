from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    """The calendar: each location's opening hours, closures, staff shifts and prescriber-present windows,
    appointments in chairs and rooms, and treatment courses booked as a whole."""

    name = "ketaclinic.scheduling"
    label = "scheduling"
    verbose_name = "Scheduling"
