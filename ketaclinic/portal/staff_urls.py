from django.urls import path

from ketaclinic.portal import staff_views

app_name = "portal_staff"
urlpatterns = [
    path("<uuid:pk>/", staff_views.invite, name="invite"),
]
