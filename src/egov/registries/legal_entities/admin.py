from django.contrib import admin

from egov.core.admin_site import admin_site
from egov.registries.legal_entities.models import DataAccess, Director, Event, LegalEntity
from egov.registries.shared.admin import ReadOnlyAdmin


class DirectorInline(admin.TabularInline):
    model = Director
    fields = ["personal_number", "full_name", "since", "until"]
    readonly_fields = ["personal_number", "full_name", "since", "until"]
    extra = 0
    can_delete = False


@admin.register(LegalEntity, site=admin_site)
class LegalEntityAdmin(ReadOnlyAdmin):
    list_display = ["unp", "short_name_be", "legal_form", "status", "registered_on"]
    list_filter = ["status", "legal_form"]
    search_fields = ["=unp"]
    raw_id_fields = ["address"]
    inlines = [DirectorInline]


@admin.register(Director, site=admin_site)
class DirectorAdmin(ReadOnlyAdmin):
    list_display = ["personal_number", "full_name", "entity", "since", "until"]
    search_fields = ["=personal_number", "=entity__unp"]
    raw_id_fields = ["entity"]


@admin.register(DataAccess, site=admin_site)
class DataAccessAdmin(ReadOnlyAdmin):
    list_display = ["at", "subject", "client", "service", "purpose_codes", "issue"]
    search_fields = ["=subject"]


@admin.register(Event, site=admin_site)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["id", "type", "at", "subject"]
    search_fields = ["=subject"]
