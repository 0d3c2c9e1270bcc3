from typing import Any

import yaml
from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin

from egov.catalog.definitions import DefinitionInvalid, definition_validate
from egov.catalog.models import (
    Agency,
    BaseUnit,
    Category,
    LifeEvent,
    Service,
    ServiceVersion,
    VersionStatus,
)
from egov.catalog.services import (
    catalogue_changed,
    catalogue_reindex,
    service_search_index_update,
    service_version_create,
    service_version_publish,
    service_version_retire,
    service_version_update,
)
from egov.core.admin_site import admin_site
from egov.core.errors import ApplicationError


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


class ServiceVersionForm(forms.ModelForm):
    """The definition is edited as YAML (JSON is YAML too) and checked before it is saved;
    an error names the exact place, e.g. ``workflow.transitions[2].to``."""

    definition_text = forms.CharField(
        label=_("definition (YAML or JSON)"),
        widget=forms.Textarea(attrs={"rows": 40, "cols": 120, "spellcheck": "false"}),
        help_text=_("The format is described in docs/service-definitions.md."),
    )

    class Meta:
        model = ServiceVersion
        fields = ["service", "change_note"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["definition_text"].initial = yaml.safe_dump(
                self.instance.definition, allow_unicode=True, sort_keys=False
            )

    def clean_definition_text(self) -> dict[str, Any]:
        try:
            definition = yaml.safe_load(self.cleaned_data["definition_text"])
        except yaml.YAMLError as error:
            message = _("This is not valid YAML: %(error)s") % {"error": error}
            raise forms.ValidationError(message) from error
        try:
            definition_validate(definition)
        except DefinitionInvalid as error:
            raise forms.ValidationError(str(error)) from error
        return dict(definition)


@admin.register(ServiceVersion, site=admin_site)
class ServiceVersionAdmin(admin.ModelAdmin):
    form = ServiceVersionForm
    list_display = ["service", "number", "status", "published_at", "retired_at", "change_note"]
    list_filter = ["status", "service__agency"]
    search_fields = ["service__code"]
    actions = ["publish", "retire"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is not None and obj.status != VersionStatus.DRAFT:
            return ["service", "change_note", "status", "number"]
        return ["status", "number"] if obj is not None else []

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and obj.status != VersionStatus.DRAFT:
            return ["service", "number", "status", "change_note"]
        return super().get_fields(request, obj)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        definition = form.cleaned_data["definition_text"]
        note = form.cleaned_data.get("change_note", "")
        if change:
            saved = service_version_update(version=obj, definition=definition, change_note=note)
        else:
            saved = service_version_create(
                service=form.cleaned_data["service"], definition=definition, change_note=note
            )
        obj.pk = saved.pk
        obj.refresh_from_db()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return (
            obj is not None and obj.status == VersionStatus.DRAFT and not obj.applications.exists()
        )

    @admin.action(description=_("Publish the selected draft"))
    def publish(self, request: HttpRequest, queryset: Any) -> None:
        for version in queryset:
            try:
                service_version_publish(version=version)
            except ApplicationError as error:
                self.message_user(request, f"{version}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, _("%(version)s published.") % {"version": version})

    @admin.action(description=_("Retire the selected version"))
    def retire(self, request: HttpRequest, queryset: Any) -> None:
        for version in queryset:
            try:
                service_version_retire(version=version)
            except ApplicationError as error:
                self.message_user(request, f"{version}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, _("%(version)s retired.") % {"version": version})
