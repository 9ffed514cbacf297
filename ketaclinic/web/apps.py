from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "ketaclinic.web"
    label = "web"
    verbose_name = "Web interface"
