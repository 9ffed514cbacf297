"""Pages of the controlled-substance ledger."""

from django.urls import URLPattern, path, re_path

from ketaclinic.ledger import views

app_name = "ledger"
urlpatterns: list[URLPattern] = [
    path("", views.index, name="index"),
    path("events/", views.events, name="events"),
    re_path(
        r"^record/(?P<kind>receive|waste|breakage|dispose|transfer_out|count|adjust)/$",
        views.record_event,
        name="record",
    ),
    path("events/<int:event_id>/witness/", views.witness, name="witness"),
    path("report/", views.report_download, name="report"),
    path("losses/", views.losses, name="losses"),
    path("losses/new/", views.loss_new, name="loss_new"),
    path("losses/<int:loss_id>/", views.loss, name="loss"),
    path("losses/<int:loss_id>/steps/", views.loss_step, name="loss_step"),
    path("losses/<int:loss_id>/form-106.csv", views.loss_form_106, name="loss_form_106"),
]
