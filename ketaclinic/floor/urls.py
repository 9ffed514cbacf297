"""Pages of the treatment floor."""

from django.urls import URLPattern, path

from ketaclinic.floor import views

app_name = "floor"
urlpatterns: list[URLPattern] = [
    path("", views.board, name="board"),
]
