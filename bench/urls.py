"""Every product route, plus the baselines under /bench/ (only served with bench.settings)."""

from django.urls import path

from bench import assessments_views, views
from ketaclinic.urls import handler400, handler403, handler404, handler500
from ketaclinic.urls import urlpatterns as product

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]

urlpatterns = [
    path("bench/json/", views.bare_json),
    path("bench/chart/<uuid:pk>/", views.bare_chart),
    path("bench/api/", views.bare_api.urls),
    path("bench/insert/<uuid:pk>/", assessments_views.bare_insert),
    *product,
]
