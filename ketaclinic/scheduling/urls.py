"""Pages of the calendar, mounted at /schedule/."""

from django.urls import URLPattern, path

from ketaclinic.scheduling import views

app_name = "scheduling"
urlpatterns: list[URLPattern] = [
    path("", views.calendar, name="calendar"),
    path("book/", views.book, name="book"),
    path("appointments/<uuid:appointment_id>/cancel/", views.cancel, name="cancel"),
    path("appointments/<uuid:appointment_id>/no-show/", views.no_show, name="no_show"),
    path("plans/<uuid:plan_id>/", views.course, name="course"),
    path("resources/<int:location_id>/", views.resources, name="resources"),
    path("resources/<int:location_id>/<str:what>/", views.add_resource, name="add_resource"),
]

# The week's proposals (the optimiser).
urlpatterns += [
    path("proposals/", views.proposals, name="proposals"),
    path("proposals/<uuid:proposal_id>/", views.proposal, name="proposal"),
    path("proposals/<uuid:proposal_id>/accept/", views.accept_proposal, name="accept_proposal"),
]
