"""Pages of the safety work and the clinician worklist (mounted at the site's root by ketaclinic/urls.py)."""

from django.urls import URLPattern, path

from ketaclinic.assessments import safety_views as views

app_name = "safety"
urlpatterns: list[URLPattern] = [
    path("worklist/", views.worklist_page, name="worklist"),
    path("safety/patients/<uuid:pk>/cssrs/", views.cssrs, name="cssrs"),
    path("safety/patients/<uuid:pk>/safety-plan/", views.plan, name="plan"),
    path("safety/patients/<uuid:pk>/alerts/<int:alert_id>/review/", views.review, name="review"),
]
