from django.contrib import admin
from django.urls import include, path
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from ketaclinic.accounts import views as account_views
from ketaclinic.api.app import api
from ketaclinic.clinicpolicy import views as clinicpolicy_views

admin.site.site_header = "KetaClinic administration"
admin.site.site_title = "KetaClinic admin"
# Second factors are enrolled and reset on KetaClinic's own pages (/mfa/), audited; the admin site would
# show their secrets.
for _device in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_device):
        admin.site.unregister(_device)

urlpatterns = [
    path("", include("ketaclinic.web.urls")),
    # The rule catalogue with the clinic policy in force at the reader's location.
    path("rules/", clinicpolicy_views.rules, name="rules"),
    path("patients/", include("ketaclinic.patients.urls")),
    path("audit/", include("ketaclinic.audit_review.urls")),
    path("emergency/", include("ketaclinic.emergency.urls")),
    path("mfa/", include("ketaclinic.accounts.mfa_urls")),
    path("staff/", include("ketaclinic.staff.urls")),
    path("clinic/", include("ketaclinic.clinicpolicy.urls")),
    path("screening/", include("ketaclinic.screening.urls")),
    path("consent/", include("ketaclinic.consent.urls")),
    path("ledger/", include("ketaclinic.ledger.urls")),
    path("treatment/", include("ketaclinic.treatment.urls")),
    path("therapy/", include("ketaclinic.therapy.urls")),
    path("rems/", include("ketaclinic.rems.urls")),
    path("floor/", include("ketaclinic.floor.urls")),
    path("schedule/", include("ketaclinic.scheduling.urls")),
    # The patient portal (patients' own accounts) and the staff page that invites a patient to it.
    # The patient's at-home doses and check-ins (portal pages of ketaclinic/homecare), before the portal's.
    path("portal/home-dose/", include("ketaclinic.homecare.portal_urls")),
    path("portal/", include("ketaclinic.portal.urls")),
    # At-home programs on the staff side.
    path("home-programs/", include("ketaclinic.homecare.urls")),
    path("portal-staff/", include("ketaclinic.portal.staff_urls")),
    # Costs and billing: price lists, coverage, estimates, invoices and payments; the patient's estimate in
    # the portal.
    path("billing/", include("ketaclinic.billing.urls")),
    path("portal/estimate/", include("ketaclinic.billing.portal_urls")),
    # The clinician worklist (/worklist/) and the safety pages (/safety/...) of measurement-based care.
    path("", include("ketaclinic.assessments.safety_urls")),
    path("assessments/", include("ketaclinic.assessments.urls")),
    # The patient's self-report links (public; the token is the secret).
    path("r/", include("ketaclinic.assessments.selfreport_urls")),
    # Outcome analytics: a cohort's response, remission and durability beside published figures.
    path("outcomes/", include("ketaclinic.outcomes.urls")),
    path("api/", api.urls),
    # FHIR R4 exchange: /fhir/R4 (read, search, bulk export, transaction import) and the exports page.
    path("fhir/", include("ketaclinic.fhir.urls")),
    # The admin site signs in and out through the app's own views, so that its login is throttled and
    # audited like every other: these come before admin.site.urls and shadow its login and logout.
    path("admin/login/", account_views.login_view, name="admin_login"),
    path("admin/logout/", account_views.logout_view, name="admin_logout"),
    path("admin/", admin.site.urls),
]

handler404 = "ketaclinic.web.errors.not_found"
handler500 = "ketaclinic.web.errors.server_error"
handler403 = "ketaclinic.web.errors.forbidden"
handler400 = "ketaclinic.web.errors.bad_request"
