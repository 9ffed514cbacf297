"""Pages of clinic policy, mounted at /clinic/."""

from django.urls import URLPattern, path

from ketaclinic.clinicpolicy import views

app_name = "clinicpolicy"
urlpatterns: list[URLPattern] = [
    path("", views.index, name="index"),
    path("<int:location_id>/", views.policy, name="policy"),
    path("<int:location_id>/chairs/", views.chairs, name="chairs"),
    path("<int:location_id>/chairs/<int:chair_id>/", views.chair, name="chair"),
]
