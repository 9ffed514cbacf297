"""Pages of screening."""

from django.urls import path

from ketaclinic.screening import views

app_name = "screening"
urlpatterns = [
    path("patients/<uuid:pk>/", views.patient_screenings, name="patient"),
    path("patients/<uuid:pk>/panel/", views.chart_panel, name="panel"),
    path("patients/<uuid:pk>/run/", views.run, name="run"),
    path("patients/<uuid:pk>/rems-enrolment/", views.enrol, name="enrol"),
    path("patients/<uuid:pk>/<int:sid>/", views.screening_page, name="screening"),
    path("patients/<uuid:pk>/<int:sid>/acknowledge/", views.acknowledge, name="acknowledge"),
]
