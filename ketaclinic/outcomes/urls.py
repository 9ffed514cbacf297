"""Pages of outcome analytics."""

from django.urls import URLPattern, path

from ketaclinic.outcomes import views

app_name = "outcomes"
urlpatterns: list[URLPattern] = [
    path("", views.report_page, name="report"),
    path("report.csv", views.report_csv, name="csv"),
]
