"""The patient's self-report link (public: the token in the path is the link's secret; no patient data)."""

from django.urls import path

from ketaclinic.assessments import selfreport

app_name = "selfreport"
urlpatterns = [
    path("<str:token>/", selfreport.link, name="link"),
]
