from django.contrib import admin

from egov.core.admin_site import admin_site
from egov.registries.population.models import (
    AddressRegistration,
    DataAccess,
    Event,
    IdentityDocument,
    Person,
)
from egov.registries.shared.admin import ReadOnlyAdmin


class RegistrationInline(admin.TabularInline):
    model = AddressRegistration
    fields = ["address", "kind", "valid_from", "valid_until"]
    readonly_fields = ["address", "kind", "valid_from", "valid_until"]
    raw_id_fields = ["address"]
    extra = 0
    can_delete = False


class DocumentInline(admin.TabularInline):
    model = IdentityDocument
    fields = ["type", "number", "issued_on", "valid_until", "authority"]
    readonly_fields = ["type", "number", "issued_on", "valid_until", "authority"]
    extra = 0
    can_delete = False


@admin.register(Person, site=admin_site)
class PersonAdmin(ReadOnlyAdmin):
    list_display = ["personal_number", "last_name_be", "first_name_be", "birth_date", "status"]
    list_filter = ["status", "sex"]
    # Exact match: a prefix search over millions of rows would scan the table.
    search_fields = ["=personal_number"]
    raw_id_fields = ["address"]
    inlines = [RegistrationInline, DocumentInline]


@admin.register(DataAccess, site=admin_site)
class DataAccessAdmin(ReadOnlyAdmin):
    list_display = ["at", "subject", "client", "service", "purpose_codes", "issue"]
    search_fields = ["=subject"]


@admin.register(Event, site=admin_site)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["id", "type", "at", "subject"]
    list_filter = ["type"]
    search_fields = ["=subject"]
