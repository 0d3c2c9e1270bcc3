from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from egov.cases.models import Application
from egov.core.admin_site import admin_site


@admin.register(Application, site=admin_site)
class ApplicationAdmin(admin.ModelAdmin):
    """Read only: applications change through their workflow, never by hand."""

    list_display = ["number", "service", "state", "outcome", "submitted_at", "deadline"]
    list_filter = ["agency", "state_kind", "outcome"]
    search_fields = ["number"]
    exclude = ["data"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Application._meta.fields if f.name != "data"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
