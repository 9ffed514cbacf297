from django.apps import AppConfig


class StaffConfig(AppConfig):
    """The Staff pages for clinic admins: accounts, roles, role requests and API tokens of their locations."""

    name = "ketaclinic.staff"
    label = "staff"
    verbose_name = "Staff"
