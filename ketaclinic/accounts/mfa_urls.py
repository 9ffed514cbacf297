from django.urls import path

from ketaclinic.accounts import mfa_views

app_name = "mfa"
urlpatterns = [
    path("", mfa_views.account, name="account"),
    path("verify/", mfa_views.verify, name="verify"),
    path("enrol/", mfa_views.enrol, name="enrol"),
    path("staff/", mfa_views.staff, name="staff"),
    path("staff/<int:user_id>/reset/", mfa_views.reset, name="reset"),
]
