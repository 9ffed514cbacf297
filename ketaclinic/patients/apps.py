from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "ketaclinic.patients"
    label = "patients"
    verbose_name = "Patients and intake"
