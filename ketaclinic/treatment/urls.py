"""Pages of treatment: a patient's plans, the chart's treatment panel, a plan, and the session page
(tablet-first)."""

from django.urls import URLPattern, path

from ketaclinic.treatment import views

app_name = "treatment"
urlpatterns: list[URLPattern] = [
    path("patients/<uuid:pk>/plans/", views.patient_plans, name="patient_plans"),
    path("patients/<uuid:pk>/panel/", views.chart_panel, name="panel"),
    path("plans/<uuid:pk>/", views.plan_page, name="plan"),
    path("plans/<uuid:pk>/<str:step>/", views.plan_step, name="plan_step"),
    path("sessions/<uuid:pk>/", views.session_page, name="session"),
    path("sessions/<uuid:pk>/alerts/<int:alert_id>/", views.answer_alert, name="answer_alert"),
    path("sessions/<uuid:pk>/<str:step>/", views.session_step, name="session_step"),
]
