"""Pages of the treatment floor."""

from django.urls import URLPattern

app_name = "floor"
urlpatterns: list[URLPattern] = []
