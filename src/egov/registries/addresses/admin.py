from django.contrib import admin

from egov.core.admin_site import admin_site
from egov.registries.addresses.models import Address
from egov.registries.shared.admin import ReadOnlyAdmin


@admin.register(Address, site=admin_site)
class AddressAdmin(ReadOnlyAdmin):
    list_display = ["id", "text_be", "postal_code"]
    search_fields = ["=id", "=postal_code", "text_be", "text_ru"]
