"""The central registry in the platform admin. Every save and delete goes through
``services.py`` so that it bumps the configuration serial in the same transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from egov.core.admin_site import admin_site
from egov.exchange.central import services
from egov.exchange.central.models import (
    AccessRight,
    ConfigurationVersion,
    Gateway,
    Member,
    Service,
    Subsystem,
)


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


@admin.register(Member, site=admin_site)
class MemberAdmin(RegistryAdmin):
    save_entry, delete_entry, entity = services.member_save, services.member_delete, "member"
    list_display = ["member_code", "member_class", "name", "instance"]
    list_filter = ["member_class"]
    search_fields = ["member_code", "name"]


@admin.register(Gateway, site=admin_site)
class GatewayAdmin(RegistryAdmin):
    save_entry, delete_entry, entity = services.gateway_save, services.gateway_delete, "gateway"
    list_display = ["code", "owner", "address", "enabled"]
    list_filter = ["enabled"]
    search_fields = ["code", "address"]


@admin.register(Subsystem, site=admin_site)
class SubsystemAdmin(RegistryAdmin):
    save_entry, delete_entry, entity = (
        services.subsystem_save,
        services.subsystem_delete,
        "subsystem",
    )
    list_display = ["__str__", "member", "code", "gateway"]
    list_filter = ["gateway", "member__member_class"]
    list_select_related = ["member", "gateway"]
    search_fields = ["code", "member__member_code"]


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
    list_display = ["__str__", "client", "service"]
    list_filter = ["client"]
    list_select_related = ["client__member", "service__subsystem__member"]


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
