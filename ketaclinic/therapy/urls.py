"""Pages of therapy."""

from django.urls import path

from ketaclinic.therapy import timeline_views, views

app_name = "therapy"
urlpatterns = [
    path("patients/<uuid:pk>/", views.patient_therapy, name="patient"),
    path("patients/<uuid:pk>/panel/", views.chart_panel, name="panel"),
    path("patients/<uuid:pk>/care-team/", views.care_team, name="care_team"),
    path("patients/<uuid:pk>/timeline/", timeline_views.patient_timeline, name="timeline"),
    path("sessions/<uuid:sid>/", views.session_page, name="session"),
    path("sessions/<uuid:sid>/notes/", views.write_note, name="write_note"),
    path("notes/<uuid:nid>/", views.note_page, name="note"),
    path("notes/<uuid:nid>/sign/", views.sign_note, name="sign_note"),
    path("notes/<uuid:nid>/amendments/", views.amend_note, name="amend_note"),
]
