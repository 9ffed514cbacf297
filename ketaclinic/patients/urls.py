from django.urls import path

from ketaclinic.patients import views

app_name = "patients"
urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_new, name="new"),
    path("new/rows/<str:section>/<int:index>/", views.intake_row, name="intake_row"),
    path("<uuid:pk>/", views.patient_chart, name="chart"),
    path("<uuid:pk>/edit/", views.patient_edit, name="edit"),
    path("<uuid:pk>/entered-in-error/", views.patient_entered_in_error, name="entered_in_error"),
    path("<uuid:pk>/measurements/", views.add_measurement, name="add_measurement"),
    path("<uuid:pk>/forms/<str:section>/", views.entry_form, name="entry_form"),
    path("<uuid:pk>/<str:section>/", views.add_entry, name="add_entry"),
    path("<uuid:pk>/<str:section>/<int:entry_id>/status/", views.change_entry_status, name="entry_status"),
]
