from django.urls import path

from ketaclinic.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in/", views.sign_in, name="sign_in"),
    path("sign-out/", views.sign_out, name="sign_out"),
    # The invitation's secret is the only thing in the link: no patient id, no name.
    path("welcome/<str:secret>/", views.welcome, name="welcome"),
    path("history/", views.history, name="history"),
    path("questionnaires/<int:request_id>/", views.questionnaire, name="questionnaire"),
]
