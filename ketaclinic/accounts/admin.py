"""Django admin for clinic admins only: locations, staff and their roles. Patient data is not here.

Role and account changes go through the actions so that each leaves a privilege-change audit row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.contrib import admin
from django.http import HttpRequest

from ketaclinic.accounts import actions
from ketaclinic.accounts.access import can, location_ids
from ketaclinic.accounts.models import ClinicLocation, Membership, User
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.context import origin_of
from ketaclinic.audit.models import Via


def _is_clinic_admin(request: HttpRequest) -> bool:
    return bool(request.user.is_active and can(request.user, Perm.STAFF_MANAGE))


admin.site.has_permission = _is_clinic_admin  # type: ignore[method-assign]

# The admin classes are generic in django-stubs only; at run time they take no type arguments.
if TYPE_CHECKING:
    MembershipInlineBase = admin.TabularInline[Membership, User]
    StaffAdminBase = admin.ModelAdmin[User]
    MembershipAdminBase = admin.ModelAdmin[Membership]
    LocationAdminBase = admin.ModelAdmin[ClinicLocation]
else:
    MembershipInlineBase = admin.TabularInline
    StaffAdminBase = MembershipAdminBase = LocationAdminBase = admin.ModelAdmin


class ClinicAdminMixin:
    """Clinic admins manage their own locations' staff; Django's per-model permissions are not used."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_clinic_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_clinic_admin(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_clinic_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MembershipInline(MembershipInlineBase):
    model = Membership
    extra = 0
    fields = ("location", "role", "created_at")
    readonly_fields = ("location", "role", "created_at")
    can_delete = False


@admin.register(User)
class StaffAdmin(ClinicAdminMixin, StaffAdminBase):
    list_display = ("username", "first_name", "last_name", "is_active", "last_login")
    search_fields = ("username", "first_name", "last_name")
    fields = ("username", "first_name", "last_name", "email", "is_active", "last_login")
    readonly_fields = fields
    inlines = [MembershipInline]

    def get_queryset(self, request: HttpRequest) -> Any:
        staff = Membership.objects.filter(location_id__in=location_ids(request.user, Perm.STAFF_MANAGE))
        return super().get_queryset(request).filter(pk__in=staff.values("user_id"))

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Membership)
class MembershipAdmin(ClinicAdminMixin, MembershipAdminBase):
    list_display = ("user", "location", "role", "created_at")
    list_filter = ("role", "location")
    fields = ("user", "location", "role")

    def get_queryset(self, request: HttpRequest) -> Any:
        return (
            super()
            .get_queryset(request)
            .filter(location_id__in=location_ids(request.user, Perm.STAFF_MANAGE))
        )

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "location":
            kwargs["queryset"] = ClinicLocation.objects.filter(
                pk__in=location_ids(request.user, Perm.STAFF_MANAGE)
            )
        if db_field.name == "user":
            admin_user = cast(User, request.user)  # the admin lets in signed-in clinic admins only
            kwargs["queryset"] = User.objects.filter(network_id=admin_user.network_id, is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        actions.do_grant_role(
            obj.user, obj.location, obj.role, actor=request.user, origin=origin_of(request, Via.WEB)
        )


@admin.register(ClinicLocation)
class LocationAdmin(ClinicAdminMixin, LocationAdminBase):
    list_display = ("name", "slug", "network")

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).filter(pk__in=location_ids(request.user, Perm.STAFF_MANAGE))

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
