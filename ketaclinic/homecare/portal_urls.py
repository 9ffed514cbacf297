"""The patient's at-home dose pages in the portal (phone-first). Dose ids are the patient's own only."""

from django.urls import URLPattern, path

from ketaclinic.homecare import portal_views

app_name = "home_dose"
urlpatterns: list[URLPattern] = [
    path("", portal_views.today, name="today"),
    path("<int:dose_id>/taken/", portal_views.taken, name="taken"),
    path("<int:dose_id>/check-in/", portal_views.checkin, name="checkin"),
]
