"""Pages of Spravato REMS."""

from django.urls import URLPattern, path

from ketaclinic.rems import views

app_name = "rems"
urlpatterns: list[URLPattern] = [
    path("", views.queue_page, name="queue"),
    path("sessions/<uuid:session_id>/", views.form_page, name="form"),
    path("sessions/<uuid:session_id>/form.pdf", views.form_download, name="form_pdf"),
    path("sessions/<uuid:session_id>/submission/", views.form_submit, name="submit"),
    path("settings/", views.settings_list, name="settings"),
    path("settings/<slug:slug>/", views.setting_edit, name="setting_edit"),
]
