from django.urls import path

from ketaclinic.staff import views

app_name = "staff"
urlpatterns = [
    path("", views.staff_list, name="list"),
    path("grant/", views.grant, name="grant"),
    path("requests/<int:request_id>/approve/", views.approve, name="approve"),
    path("requests/<int:request_id>/decline/", views.decline, name="decline"),
    path("roles/<int:membership_id>/revoke/", views.revoke_role, name="revoke_role"),
    path("tokens/<int:token_id>/revoke/", views.revoke_token, name="revoke_token"),
    path("<int:user_id>/", views.member, name="member"),
    path("<int:user_id>/disable/", views.disable, name="disable"),
    path("<int:user_id>/tokens/revoke/", views.revoke_tokens, name="revoke_tokens"),
]
