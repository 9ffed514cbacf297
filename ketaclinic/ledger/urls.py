"""Pages of the controlled-substance ledger."""

from django.urls import URLPattern, path, re_path

from ketaclinic.ledger import views

app_name = "ledger"
urlpatterns: list[URLPattern] = [
    path("", views.index, name="index"),
    path("events/", views.events, name="events"),
    re_path(r"^record/(?P<kind>receive|waste|count|adjust)/$", views.record_event, name="record"),
    path("events/<int:event_id>/witness/", views.witness, name="witness"),
    path("report/", views.report_download, name="report"),
]
