"""Pages of billing: price lists, a patient's coverage and account, estimates, invoices."""

from django.urls import URLPattern, path

from ketaclinic.billing import views

app_name = "billing"
urlpatterns: list[URLPattern] = [
    path("prices/<int:location_id>/", views.prices, name="prices"),
    path("patients/<uuid:pk>/", views.account, name="account"),
    path("patients/<uuid:pk>/coverage/", views.coverage, name="coverage"),
    path(
        "patients/<uuid:pk>/coverage/<uuid:coverage_id>/benefit-check/",
        views.benefit_check,
        name="benefit_check",
    ),
    path("patients/<uuid:pk>/coverage/<uuid:coverage_id>/card/", views.card_upload, name="card_upload"),
    path(
        "patients/<uuid:pk>/coverage/<uuid:coverage_id>/card/<str:side>/",
        views.card_image,
        name="card_image",
    ),
    path("plans/<uuid:pk>/estimate/", views.estimate, name="estimate"),
    path("sessions/<uuid:pk>/invoice/", views.invoice_session, name="invoice_session"),
    path("invoices/<uuid:pk>/", views.invoice, name="invoice"),
    path("invoices/<uuid:pk>/entries/", views.invoice_entry, name="invoice_entry"),
]
urlpatterns += [
    path("invoices/<uuid:pk>/superbill/", views.invoice_superbill, name="invoice_superbill"),
    path("patients/<uuid:pk>/superbill/", views.period_superbill, name="superbill"),
    path("patients/<uuid:pk>/prior-authorization/", views.prior_authorization, name="prior_authorization"),
    path("plans/<uuid:pk>/authorization/", views.plan_authorization, name="plan_authorization"),
    path("identifiers/<int:location_id>/", views.identifiers, name="identifiers"),
    path("reports/<int:location_id>/", views.report_page, name="reports"),
    path("reports/<int:location_id>/<str:report>.csv", views.report_csv, name="report_csv"),
]
