"""Pages of clinic policy."""

from django.urls import URLPattern

app_name = "clinicpolicy"
urlpatterns: list[URLPattern] = []
