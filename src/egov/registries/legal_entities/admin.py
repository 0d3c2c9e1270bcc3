from django.contrib import admin

from egov.core.admin_site import admin_site
from egov.registries.legal_entities.models import (
    DataAccess,
    Director,
    Event,
    LegalEntity,
    LegalForm,
)
from egov.registries.shared.admin import PersonalDataAdmin, personal_numbers_in


class DirectorInline(admin.TabularInline):
    model = Director
    fields = ["personal_number", "full_name", "since", "until"]
    readonly_fields = ["personal_number", "full_name", "since", "until"]
    extra = 0
    can_delete = False


@admin.register(LegalEntity, site=admin_site)
class LegalEntityAdmin(PersonalDataAdmin):
    """An entity's page shows its directors (the inline); the list shows names, and a sole
    trader's name is the trader's own."""

    access_model = DataAccess
    access_data = "directors"
    list_display = ["unp", "short_name_be", "legal_form", "status", "registered_on"]
    list_filter = ["status", "legal_form"]
    search_fields = ["=unp"]
    raw_id_fields = ["address"]
    inlines = [DirectorInline]

    def subjects_listed(self, obj: LegalEntity) -> list[str]:
        return self.subjects_of_rows([obj])

    def subjects_of_rows(self, rows: list[LegalEntity]) -> list[str]:
        traders = [row.pk for row in rows if row.legal_form == LegalForm.SOLE_TRADER]
        if not traders:
            return []
        return list(
            Director.objects.filter(entity__in=traders).values_list("personal_number", flat=True)
        )

    def subjects_detailed(self, obj: LegalEntity) -> list[str]:
        return list(obj.directors.values_list("personal_number", flat=True))


@admin.register(Director, site=admin_site)
class DirectorAdmin(PersonalDataAdmin):
    access_model = DataAccess
    access_data = "directors"
    list_display = ["personal_number", "full_name", "entity", "since", "until"]
    search_fields = ["=personal_number", "=entity__unp"]
    raw_id_fields = ["entity"]

    def subjects_listed(self, obj: Director) -> list[str]:
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
    """An event's subject is an entity's УНП; an event's data may name people."""

    access_model = DataAccess
    access_data = "events"
    list_display = ["id", "type", "at", "subject"]
    search_fields = ["=subject"]

    def subjects_listed(self, obj: Event) -> list[str]:
        return personal_numbers_in(obj.subject)

    def subjects_detailed(self, obj: Event) -> list[str]:
        return personal_numbers_in([obj.subject, obj.data])
