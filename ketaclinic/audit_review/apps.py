from django.apps import AppConfig


class AuditReviewConfig(AppConfig):
    """The audit review page: above accounts and web, so the audit trail itself depends on neither."""

    name = "ketaclinic.audit_review"
    label = "audit_review"
    verbose_name = "Audit review"
