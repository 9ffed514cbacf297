"""Code rules in the admin site: a clinic admin adds a later version of a code (never edits one in force)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ketaclinic.billing.models import CodeRule


@admin.register(CodeRule)
class CodeRuleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "rule", "effective_from", "description")
    list_filter = ("rule",)
    fields = ("code", "description", "rule", "params", "effective_from", "source")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: CodeRule, form: Any, change: bool) -> None:
        from django.utils import timezone

        obj.created_at = timezone.now()
        super().save_model(request, obj, form, change)
