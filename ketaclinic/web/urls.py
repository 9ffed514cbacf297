from django.urls import path

from ketaclinic.accounts import views as account_views
from ketaclinic.web import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", account_views.login_view, name="login"),
    path("logout/", account_views.logout_view, name="logout"),
    path("no-access/", views.no_access, name="no_access"),
]
