"""Read-only admin pages for the registers: they change through their services, not by hand.

A platform administrator reading personal data is an access like any other (ADR 0009): every
admin page of a register that shows people records, per person shown, an entry in that
register's data-access log — client ``admin``, the administrator's account id (never the
name), purpose ``administration`` and the admin page as the service — so the person sees it
in "who used my data". A list page records its rows in one insert; a search that shows nobody
records nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from egov.core.identifiers import personal_number_is_valid
from egov.registries.shared.http import LANGUAGES, Caller
from egov.registries.shared.services import data_access_record

#: ``client`` of an administrator's access: not a subsystem identifier (those have four
#: parts), so no exchange caller can be mistaken for it. "Who used my data" knows it.
ADMIN_CLIENT = "admin"
ADMIN_PURPOSE = "administration"
ADMIN_PURPOSE_TEXT = gettext_noop("Administration of the register by a platform administrator")


class ReadOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False  # counting millions of rows on every page is slow

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def admin_purpose() -> dict[str, Any]:
    """The purpose as the registers record every purpose: a code and texts in be, ru, en."""
    texts = {}
    for language in LANGUAGES:
        with translation.override(language):
            texts[language] = gettext(ADMIN_PURPOSE_TEXT)
    return {
        "code": ADMIN_PURPOSE,
        "text": texts,
        "legal_basis": dict.fromkeys(LANGUAGES, ""),
    }


def personal_numbers_in(value: Any) -> list[str]:
    """Every identification number among the strings of a JSON value (an event's data)."""
    if isinstance(value, str):
        return [value] if personal_number_is_valid(value) else []
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list | tuple):
        return [number for item in value for number in personal_numbers_in(item)]
    return []


class PersonalDataAdmin(ReadOnlyAdmin):
    """A register's admin whose pages show people: each list, detail and history page
    records who it showed in ``access_model`` (the register's data-access log), and so does
    the admin's autocomplete when it names them."""

    #: The register's data-access log.
    access_model: type[models.Model]
    #: What the page shows, as the register's services name it (``data`` of the entry).
    access_data: str

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Each register's admin names the people its rows show: one that forgot would record
        # nothing (or fail on its first page), so the class itself is refused at import.
        super().__init_subclass__(**kwargs)
        if cls.subjects_listed is PersonalDataAdmin.subjects_listed:
            raise TypeError(f"{cls.__name__} must define subjects_listed()")

    def subjects_listed(self, obj: Any) -> Iterable[str]:
        """The people a row of the list page shows (its columns); every subclass defines it
        (checked when the class is made)."""
        raise NotImplementedError

    def subjects_of_rows(self, rows: list[Any]) -> Iterable[str]:
        """The people a list page shows; an admin that must look them up does it here, in
        one query for the page."""
        return (number for row in rows for number in self.subjects_listed(row))

    def subjects_detailed(self, obj: Any) -> Iterable[str]:
        """The people the object's own page shows (its fields and inlines)."""
        return self.subjects_listed(obj)

    def _record(self, request: HttpRequest, page: str, subjects: Iterable[str]) -> None:
        numbers = [number for number in subjects if number]
        if not numbers:
            return
        opts = self.model._meta
        caller = Caller(
            client=ADMIN_CLIENT,
            user_id=str(request.user.pk),
            purposes=(admin_purpose(),),
            issue="",
            message_id="",
        )
        data_access_record(
            model=self.access_model,
            caller=caller,
            service=f"admin:{opts.app_label}_{opts.model_name}_{page}",
            data=self.access_data,
            subjects=numbers,
        )

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if isinstance(response, TemplateResponse) and changelist is not None:
            # Evaluates the page's rows once: the template then reads the same rows.
            rows = list(changelist.result_list)
            self._record(request, "changelist", self.subjects_of_rows(rows))
        return response

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        shown = getattr(response, "context_data", {}).get("original")
        if isinstance(response, TemplateResponse) and shown is not None:
            self._record(request, "change", self.subjects_detailed(shown))
        return response

    def autocomplete_shown(self, request: HttpRequest, rows: list[Any]) -> None:
        """The admin's autocomplete (``/admin/autocomplete/``) names the objects a search
        finds, for any foreign key to this model (egov.core.admin_site.AutocompleteView)."""
        self._record(request, "autocomplete", self.subjects_of_rows(rows))

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """The history page names the object (its ``str``: number and name)."""
        response = super().history_view(request, object_id, extra_context)
        shown = getattr(response, "context_data", {}).get("object")
        if isinstance(response, TemplateResponse) and shown is not None:
            self._record(request, "history", self.subjects_listed(shown))
        return response
