"""The central registry in the platform admin. Every save and delete goes through
``services.py`` so that it bumps the configuration serial in the same transaction; the
inlines (client certificates, purposes) are saved by the same service calls as their parent's
command-line and set-up paths."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, ChoiceField, ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from egov.core.admin_site import admin_site
from egov.exchange.central import services
from egov.exchange.central.models import (
    AccessRight,
    AccessRightPurpose,
    ClientCertificate,
    ConfigurationVersion,
    Gateway,
    Instance,
    Member,
    MemberClass,
    Service,
    Subsystem,
    member_class_codes,
)


def _kept_forms(formset: BaseInlineFormSet) -> list[ModelForm]:
    """The inline forms that stay: filled in, not marked for deletion. Calling the formset's
    ``save(commit=False)`` saves nothing; it records the changes for the admin's history."""
    formset.save(commit=False)
    deleted = set(map(id, formset.deleted_forms))
    return [
        form
        for form in formset.forms
        if id(form) not in deleted
        and form.cleaned_data
        and (form.instance.pk is not None or form.has_changed())
    ]


class ClientCertificateFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        fingerprints = [
            form.instance.fingerprint
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        if len(set(fingerprints)) != len(fingerprints):
            raise ValidationError(_("The same certificate is given twice."), code="duplicate")


class ClientCertificateInline(admin.StackedInline):
    model = ClientCertificate
    formset = ClientCertificateFormSet
    fields = ["certificate", "subject", "fingerprint"]
    readonly_fields = ["subject", "fingerprint"]
    extra = 0


class SubsystemCertificateInline(ClientCertificateInline):
    fk_name = "subsystem"


class MemberCertificateInline(ClientCertificateInline):
    fk_name = "member"


class PurposeFormSet(BaseInlineFormSet):
    """A right to a personal-data service keeps at least one purpose; codes are unique."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        codes = [
            form.cleaned_data["code"]
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        for code in codes:
            if codes.count(code) > 1:
                raise ValidationError(
                    _("The purpose %(code)s is given twice.") % {"code": code}, code="duplicate"
                )
        right = self.instance
        service = right.service if right.service_id else None
        missing = services.access_right_purposes_missing(service, len(codes))
        if missing is not None:
            raise missing


class PurposeInline(admin.StackedInline):
    model = AccessRightPurpose
    formset = PurposeFormSet
    fields = [
        "code",
        ("text_be", "text_ru", "text_en"),
        ("legal_basis_be", "legal_basis_ru", "legal_basis_en"),
    ]
    extra = 1


class RegistryAdmin(admin.ModelAdmin):
    """Saves and deletes through the service functions in ``save_entry`` and
    ``delete_entry``."""

    save_entry: Callable[..., Any]
    delete_entry: Callable[..., Any]
    entity: str

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        type(self).save_entry(**{self.entity: obj})

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        type(self).delete_entry(**{self.entity: obj})

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        services.registry_entries_delete(queryset=queryset)


class ClientAdmin(RegistryAdmin):
    """A member or a subsystem: its certificates are set through the service."""

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: list[Any], change: bool
    ) -> None:
        form.save_m2m()
        for formset in formsets:
            if formset.model is ClientCertificate:
                certificates = [form.cleaned_data["certificate"] for form in _kept_forms(formset)]
                services.client_certificates_set(client=form.instance, certificates=certificates)


def _member_class_choices() -> list[tuple[str, str]]:
    return [(code, code) for code in member_class_codes()]


class MemberForm(ModelForm):
    """The member class is one of the instance's (the exchange description's)."""

    member_class = ChoiceField(label=_("member class"), choices=_member_class_choices)

    class Meta:
        model = Member
        fields = ["member_class", "member_code", "name", "gateway", "connection_type"]


@admin.register(Member, site=admin_site)
class MemberAdmin(ClientAdmin):
    form = MemberForm
    save_entry, delete_entry, entity = services.member_save, services.member_delete, "member"
    list_display = ["member_code", "member_class", "name", "connection_type", "gateway"]
    list_filter = ["member_class", "connection_type"]
    list_select_related = ["gateway"]
    search_fields = ["member_code", "name"]
    fields = ["member_class", "member_code", "name", "gateway", "connection_type"]
    inlines = [MemberCertificateInline]


@admin.register(Gateway, site=admin_site)
class GatewayAdmin(RegistryAdmin):
    save_entry, delete_entry, entity = services.gateway_save, services.gateway_delete, "gateway"
    list_display = ["code", "owner", "address", "enabled"]
    list_filter = ["enabled"]
    search_fields = ["code", "address"]
    fieldsets = [
        (None, {"fields": ["code", "owner", "address", "enabled"]}),
        (_("Certificates"), {"fields": ["tls_certificate", "signing_certificate"]}),
        (
            _("Written into its gateway.json, not published"),
            {"fields": ["client_listen", "client_tls_listen", "server_listen", "health_listen"]},
        ),
    ]


@admin.register(Subsystem, site=admin_site)
class SubsystemAdmin(ClientAdmin):
    save_entry, delete_entry, entity = (
        services.subsystem_save,
        services.subsystem_delete,
        "subsystem",
    )
    list_display = ["__str__", "member", "code", "gateway", "connection_type"]
    list_filter = ["gateway", "connection_type", "member__member_class"]
    list_select_related = ["member", "gateway"]
    search_fields = ["code", "member__member_code"]
    inlines = [SubsystemCertificateInline]


@admin.register(Service, site=admin_site)
class ServiceAdmin(RegistryAdmin):
    save_entry, delete_entry, entity = services.service_save, services.service_delete, "service"
    list_display = ["__str__", "title", "personal_data"]
    list_filter = ["personal_data", "subsystem"]
    list_select_related = ["subsystem__member"]
    search_fields = ["service_code", "title", "subsystem__code", "subsystem__member__member_code"]


@admin.register(AccessRight, site=admin_site)
class AccessRightAdmin(RegistryAdmin):
    save_entry, delete_entry, entity = (
        services.access_right_save,
        services.access_right_delete,
        "access_right",
    )
    list_display = ["__str__", "client", "client_member", "service", "purpose_codes"]
    list_filter = ["client", "client_member"]
    list_select_related = ["client__member", "client_member", "service__subsystem__member"]
    fields = ["client", "client_member", "service", "endpoints"]
    inlines = [PurposeInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AccessRight]:
        return super().get_queryset(request).prefetch_related("purposes")

    @admin.display(description=_("purposes"))
    def purpose_codes(self, obj: AccessRight) -> str:
        return ", ".join(purpose.code for purpose in obj.purposes.all())

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        """Saved with its purposes in :meth:`save_related`: a right to personal data never
        exists without one."""

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: list[Any], change: bool
    ) -> None:
        purposes = []
        for formset in formsets:
            if formset.model is AccessRightPurpose:
                purposes = [form.instance.as_published() for form in _kept_forms(formset)]
        services.access_right_save(access_right=form.instance, purposes=purposes)


@admin.register(MemberClass, site=admin_site)
class MemberClassAdmin(admin.ModelAdmin):
    """The member classes come from the exchange description (``egov exchange setup``); their
    descriptions may be edited here, a class in use is kept."""

    list_display = ["code", "description"]
    fields = ["code", "description"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["code"] if obj is not None else []

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or not Member.objects.filter(member_class=obj.code).exists()


@admin.register(Instance, site=admin_site)
class InstanceAdmin(admin.ModelAdmin):
    """Read only: the instance is the exchange description's, fixed once members exist."""

    list_display = ["code"]
    readonly_fields = ["code"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ConfigurationVersion, site=admin_site)
class ConfigurationVersionAdmin(admin.ModelAdmin):
    """Read only: the serial moves with every change, never by hand."""

    list_display = ["serial", "changed_at"]
    readonly_fields = ["serial", "changed_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
