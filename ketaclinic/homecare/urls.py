"""Staff pages of at-home programs (tablet-first)."""

from django.urls import URLPattern, path

from ketaclinic.homecare import views

app_name = "homecare"
urlpatterns: list[URLPattern] = [
    path("patients/<uuid:pk>/", views.program_page, name="program"),
    path("patients/<uuid:pk>/status/", views.status_page, name="status"),
    path("patients/<uuid:pk>/release/", views.release_page, name="release"),
]
