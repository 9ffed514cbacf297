"""Pages of Spravato REMS."""

from django.urls import URLPattern

app_name = "rems"
urlpatterns: list[URLPattern] = []
