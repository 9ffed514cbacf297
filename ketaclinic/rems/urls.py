"""Pages of Spravato REMS."""

from django.urls import URLPattern, path

from ketaclinic.rems import views

app_name = "rems"
urlpatterns: list[URLPattern] = [
    path("settings/", views.settings_list, name="settings"),
    path("settings/<slug:slug>/", views.setting_edit, name="setting_edit"),
]
