from typing import Any

from django.contrib import admin
from django.db import transaction
from django.forms import ModelForm
from django.http import HttpRequest
from modeltranslation.admin import TranslationAdmin

from egov.catalog.models import Agency, BaseUnit, Category, LifeEvent, Service
from egov.catalog.services import (
    catalogue_changed,
    catalogue_reindex,
    service_search_index_update,
)
from egov.core.admin_site import admin_site


class CatalogueAdminMixin:
    """Every change in the catalogue's admin clears the cached public pages."""

    def after_change(self) -> None:
        catalogue_changed()

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)  # type: ignore[misc]
            self.after_change()

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            super().delete_model(request, obj)  # type: ignore[misc]
            self.after_change()

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        with transaction.atomic():
            super().delete_queryset(request, queryset)  # type: ignore[misc]
            self.after_change()


class ReindexOnSaveMixin(CatalogueAdminMixin):
    """Agency, category and life-event names are part of every linked service's index, so
    saving or deleting one rebuilds the index (which also clears the cached pages)."""

    def after_change(self) -> None:
        catalogue_reindex()


@admin.register(Agency, site=admin_site)
class AgencyAdmin(ReindexOnSaveMixin, TranslationAdmin):
    list_display = ["code", "short_name", "name", "email"]
    search_fields = ["code", "name", "short_name"]


@admin.register(Category, site=admin_site)
class CategoryAdmin(ReindexOnSaveMixin, TranslationAdmin):
    list_display = ["slug", "name", "position"]
    prepopulated_fields = {"slug": ["name_en"]}


@admin.register(LifeEvent, site=admin_site)
class LifeEventAdmin(ReindexOnSaveMixin, TranslationAdmin):
    list_display = ["slug", "name", "audience", "position"]
    list_filter = ["audience"]
    prepopulated_fields = {"slug": ["name_en"]}


@admin.register(Service, site=admin_site)
class ServiceAdmin(CatalogueAdminMixin, TranslationAdmin):
    list_display = [
        "code",
        "name",
        "agency",
        "audience",
        "maturity",
        "fee_base_units",
        "max_processing_days",
        "required_assurance",
        "is_published",
    ]
    list_filter = ["agency", "audience", "maturity", "required_assurance", "is_published"]
    search_fields = ["code", "name"]
    filter_horizontal = ["categories", "life_events"]

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool
    ) -> None:
        """The index needs the categories and life events, which are saved last."""
        with transaction.atomic():
            super().save_related(request, form, formsets, change)
            service_search_index_update(service=form.instance)


@admin.register(BaseUnit, site=admin_site)
class BaseUnitAdmin(CatalogueAdminMixin, admin.ModelAdmin):
    list_display = ["valid_from", "amount", "legal_act"]
