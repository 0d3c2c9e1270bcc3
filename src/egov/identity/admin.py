from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from egov.core.admin_site import admin_site
from egov.identity.models import Representation, User


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class RepresentationInline(admin.TabularInline):
    model = Representation
    extra = 0


@admin.register(User, site=admin_site)
class UserAdmin(DjangoUserAdmin):
    add_form = UserCreationForm
    ordering = ["email"]
    list_display = [
        "email",
        "last_name",
        "first_name",
        "kind",
        "agency",
        "official_role",
        "is_active",
    ]
    list_filter = ["kind", "agency", "official_role", "is_active"]
    search_fields = ["email", "last_name", "first_name", "personal_number"]
    inlines = [RepresentationInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (
            _("Person"),
            {"fields": ("last_name", "first_name", "patronymic", "personal_number")},
        ),
        (_("Kind and agency"), {"fields": ("kind", "agency", "official_role")}),
        (_("Status"), {"fields": ("is_active", "email_verified", "is_superuser", "groups")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "email",
                    "kind",
                    "last_name",
                    "first_name",
                    "personal_number",
                    "agency",
                    "official_role",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    readonly_fields = ["last_login", "date_joined"]


admin_site.register(TOTPDevice, TOTPDeviceAdmin)
