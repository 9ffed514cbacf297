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

# Calendars, the waitlist and feeds (calendar_views.py), and the public pages of the patient's links.
from ketaclinic.scheduling import calendar_views as cv  # noqa: E402

urlpatterns += [
    path("appointments/<uuid:appointment_id>/", cv.appointment, name="appointment"),
    path("appointments/<uuid:appointment_id>/move/", cv.move, name="move"),
    path("appointments/<uuid:appointment_id>/check-in/", cv.check_in, name="check_in"),
    path("staff/<int:user_id>/", cv.staff_calendar, name="staff_calendar"),
    path("me/", cv.my_calendar, name="my_calendar"),
    path("me/book/", cv.my_book, name="my_book"),
    path("me/feed/<str:what>/", cv.my_feed, name="my_feed"),
    path("capacity/", cv.capacity, name="capacity"),
    path("waitlist/", cv.waitlist_page, name="waitlist"),
    path("waitlist/add/", cv.waitlist_add, name="waitlist_add"),
    path("waitlist/<uuid:entry_id>/remove/", cv.waitlist_remove, name="waitlist_remove"),
    path("visit/<str:secret>/", cv.confirm_visit, name="confirm_visit"),
    path("offer/<str:secret>/", cv.take_offer, name="take_offer"),
    path("feed/<str:secret>.ics", cv.feed, name="feed"),
]
