from django.urls import path

from ketaclinic.emergency import views

app_name = "emergency"
urlpatterns = [
    path("", views.request_access, name="request"),
    path("<int:pk>/end/", views.end_access, name="end"),
    path("review/", views.review, name="review"),
    path("review/<int:pk>/", views.mark_reviewed, name="mark_reviewed"),
]
