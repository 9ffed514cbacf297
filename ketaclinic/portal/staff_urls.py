from django.urls import path

from ketaclinic.portal import staff_views

app_name = "portal_staff"
urlpatterns = [
    path("invite/<uuid:pk>/", staff_views.invite, name="invite"),
    path("preparation/<int:location_id>/", staff_views.preparation, name="preparation"),
]
