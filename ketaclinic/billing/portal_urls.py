from django.urls import path

from ketaclinic.billing import portal_views

app_name = "portal_billing"
urlpatterns = [path("", portal_views.estimates, name="estimates")]
