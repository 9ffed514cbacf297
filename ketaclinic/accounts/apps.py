from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "ketaclinic.accounts"
    label = "accounts"
    verbose_name = "Clinics and staff"

    def ready(self) -> None:
        from ketaclinic.accounts import mfa  # noqa: F401 - registers the MFA policy's system check
