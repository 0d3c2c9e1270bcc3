from django.contrib import admin

from egov.core.admin_site import admin_site
from egov.registries.population.models import (
    AddressRegistration,
    DataAccess,
    Event,
    IdentityDocument,
    Person,
)
from egov.registries.shared.admin import PersonalDataAdmin, personal_numbers_in


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
class PersonAdmin(PersonalDataAdmin):
    access_model = DataAccess
    access_data = "person"
    list_display = ["personal_number", "last_name_be", "first_name_be", "birth_date", "status"]
    list_filter = ["status", "sex"]
    # Exact match: a prefix search over millions of rows would scan the table.
    search_fields = ["=personal_number"]
    raw_id_fields = ["address"]
    inlines = [RegistrationInline, DocumentInline]

    def subjects_listed(self, obj: Person) -> list[str]:
        return [obj.personal_number]


@admin.register(DataAccess, site=admin_site)
class DataAccessAdmin(PersonalDataAdmin):
    """Each entry names the person whose data was read."""

    access_model = DataAccess
    access_data = "data-access-log"
    list_display = ["at", "subject", "client", "service", "purpose_codes", "issue"]
    search_fields = ["=subject"]

    def subjects_listed(self, obj: DataAccess) -> list[str]:
        return [obj.subject]


@admin.register(Event, site=admin_site)
class EventAdmin(PersonalDataAdmin):
    """The list names each event's person; an event's page also shows its data, which
    names relatives (a spouse, the parents of a child)."""

    access_model = DataAccess
    access_data = "events"
    list_display = ["id", "type", "at", "subject"]
    list_filter = ["type"]
    search_fields = ["=subject"]

    def subjects_listed(self, obj: Event) -> list[str]:
        return [obj.subject]

    def subjects_detailed(self, obj: Event) -> list[str]:
        return [obj.subject, *personal_numbers_in(obj.data)]
