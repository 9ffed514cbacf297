from django.contrib import admin
from django.urls import include, path

from ketaclinic.api.app import api

admin.site.site_header = "KetaClinic administration"
admin.site.site_title = "KetaClinic admin"

urlpatterns = [
    path("", include("ketaclinic.web.urls")),
    path("patients/", include("ketaclinic.patients.urls")),
    path("audit/", include("ketaclinic.audit_review.urls")),
    path("emergency/", include("ketaclinic.emergency.urls")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
]

handler404 = "ketaclinic.web.errors.not_found"
handler500 = "ketaclinic.web.errors.server_error"
handler403 = "ketaclinic.web.errors.forbidden"
handler400 = "ketaclinic.web.errors.bad_request"
