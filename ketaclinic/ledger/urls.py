"""Pages of controlled-substance ledger."""

from django.urls import URLPattern

app_name = "ledger"
urlpatterns: list[URLPattern] = []
