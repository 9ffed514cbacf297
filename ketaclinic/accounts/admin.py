"""Django admin for clinic admins only: locations, staff and their roles. Patient data is not here.

A clinic admin sees only the locations they administer and the staff who hold a role there, in every
list, filter, inline and choice list (accounts/queries.py); a superuser sees everything. Role changes go
through the actions, which hold the admin to the same rules as the Staff pages and leave a
privilege-change audit row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from ketaclinic.accounts import actions, queries
from ketaclinic.accounts.access import can
from ketaclinic.accounts.models import ClinicLocation, Membership, User
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.context import origin_of
from ketaclinic.audit.models import Via
from ketaclinic.errors import Forbidden, InvalidInput


def _is_clinic_admin(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and (user.is_superuser or can(user, Perm.STAFF_MANAGE)))


admin.site.has_permission = _is_clinic_admin  # type: ignore[method-assign]

# The admin classes are generic in django-stubs only; at run time they take no type arguments.
if TYPE_CHECKING:
    MembershipInlineBase = admin.TabularInline[Membership, User]
    StaffAdminBase = admin.ModelAdmin[User]
    MembershipAdminBase = admin.ModelAdmin[Membership]
    LocationAdminBase = admin.ModelAdmin[ClinicLocation]
    MembershipFormBase = forms.ModelForm[Membership]
else:
    MembershipInlineBase = admin.TabularInline
    StaffAdminBase = MembershipAdminBase = LocationAdminBase = admin.ModelAdmin
    MembershipFormBase = forms.ModelForm


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
    """A staff member's roles, at the viewing admin's locations only."""

    model = Membership
    fk_name = "user"
    extra = 0
    fields = ("location", "role", "created_at", "granted_by", "approved_by")
    readonly_fields = fields
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> Any:
        mine = queries.administered_location_ids(request.user)
        return super().get_queryset(request).filter(location_id__in=mine)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_clinic_admin(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(User)
class StaffAdmin(ClinicAdminMixin, StaffAdminBase):
    list_display = ("username", "first_name", "last_name", "is_active", "last_login")
    search_fields = ("username", "first_name", "last_name")
    fields = ("username", "first_name", "last_name", "email", "is_active", "last_login")
    readonly_fields = fields
    inlines = [MembershipInline]

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).filter(pk__in=queries.staff_of(request.user).values("pk"))

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MembershipForm(MembershipFormBase):
    """Checks a grant with the action's own rules, so a refusal shows on the form, not as an error page."""

    actor: ClassVar[Any] = None  # the signed-in admin, set per request on the class get_form makes

    class Meta:
        model = Membership
        fields = ("user", "location", "role")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        user, location, role = data.get("user"), data.get("location"), data.get("role")
        if user is None or location is None or not role:
            return data
        try:
            actions.check_grant(user, location, role, actor=self.actor)
        except InvalidInput as exc:
            for field, message in exc.errors.items():
                self.add_error(field if field in self.fields else None, message)
        except Forbidden as exc:
            self.add_error(None, f"Not granted: {exc}.")
        return data


@admin.register(Membership)
class MembershipAdmin(ClinicAdminMixin, MembershipAdminBase):
    form = MembershipForm
    list_display = ("user", "location", "role", "granted_by", "approved_by")
    # Only locations that appear in the (scoped) list, never every location of every clinic.
    list_filter = ("role", ("location", admin.RelatedOnlyFieldListFilter))
    fields = ("user", "location", "role")

    def get_queryset(self, request: HttpRequest) -> Any:
        mine = queries.administered_location_ids(request.user)
        return super().get_queryset(request).filter(location_id__in=mine)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        # get_form builds a fresh subclass of MembershipForm for each request.
        form = cast(type[MembershipForm], super().get_form(request, obj, change, **kwargs))
        form.actor = request.user
        return form

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "location":
            kwargs["queryset"] = queries.administered_locations(request.user)
        if db_field.name == "user":
            kwargs["queryset"] = queries.grantable_users(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        saved = actions.do_grant_role(
            obj.user, obj.location, obj.role, actor=request.user, origin=origin_of(request, Via.WEB)
        )
        obj.pk = saved.pk


@admin.register(ClinicLocation)
class LocationAdmin(ClinicAdminMixin, LocationAdminBase):
    list_display = ("name", "slug", "network")

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).filter(pk__in=queries.administered_location_ids(request.user))

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
