"""Pages of assessments."""

from django.urls import path

from ketaclinic.assessments import request_views, views

app_name = "assessments"
urlpatterns = [
    path("patients/<uuid:pk>/", views.patient_assessments, name="patient"),
    path("patients/<uuid:pk>/panel/", views.chart_panel, name="panel"),
    path("patients/<uuid:pk>/requests/", request_views.patient_requests, name="requests"),
    path("patients/<uuid:pk>/new/<slug:instrument>/", views.new_assessment, name="enter"),
    path("patients/<uuid:pk>/<int:aid>/", views.assessment_page, name="assessment"),
]
