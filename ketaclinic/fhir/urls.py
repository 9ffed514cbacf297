"""/fhir/R4 (the FHIR API, bearer tokens) and /fhir/exports/ (the staff page of bulk exports)."""

from __future__ import annotations

from django.urls import path, re_path

from ketaclinic.fhir import api, views

app_name = "fhir"

urlpatterns = [
    path("exports/", views.exports, name="exports"),
    path("exports/<uuid:job_id>/cancel/", views.cancel, name="cancel"),
    path("R4", api.transaction_bundle, name="transaction"),
    path("R4/", api.transaction_bundle),
    path("R4/metadata", api.metadata, name="metadata"),
    path("R4/Patient/$export", api.patient_export, name="patient_export"),
    re_path(r"^R4/Group/(?P<group_id>[^/]{1,64})/\$export$", api.group_export, name="group_export"),
    path("R4/$export-status/<str:job_id>", api.export_status, name="export_status"),
    re_path(
        r"^R4/\$export-file/(?P<job_id>[^/]{1,64})/(?P<name>[A-Za-z]+-\d{1,6}\.ndjson)$",
        api.export_file,
        name="export_file",
    ),
    re_path(r"^R4/(?P<resource_type>[A-Za-z]{1,40})$", api.search, name="search"),
    re_path(
        r"^R4/(?P<resource_type>[A-Za-z]{1,40})/(?P<resource_id>[A-Za-z0-9\-\.]{1,64})$",
        api.read,
        name="read",
    ),
]
