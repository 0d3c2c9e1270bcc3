from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from egov.core.admin_site import admin_site
from egov.notifications.models import Delivery


@admin.register(Delivery, site=admin_site)
class DeliveryAdmin(admin.ModelAdmin):
    """Operators watch failed and given-up deliveries here (addresses are personal data)."""

    list_display = ["message", "channel", "status", "attempts", "next_attempt_at", "last_error"]
    list_filter = ["status", "channel"]
    readonly_fields = [f.name for f in Delivery._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
