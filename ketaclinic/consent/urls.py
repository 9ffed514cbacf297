"""Pages of consent."""

from django.urls import path

from ketaclinic.consent import views

app_name = "consent"
urlpatterns = [
    path("documents/", views.documents, name="documents"),
    path("documents/new/", views.publish, name="publish"),
    path("documents/<int:pk>/", views.document, name="document"),
    path("patients/<uuid:pk>/", views.patient_consents, name="patient"),
    path("patients/<uuid:pk>/sign/<int:doc_id>/", views.sign, name="sign"),
]
