"""View helpers shared by the registries' services."""

from __future__ import annotations

from django.utils.translation import gettext as _

from egov.core.identifiers import normalise_personal_number, personal_number_is_valid


def personal_number_or_none(value: str) -> str | None:
    number = normalise_personal_number(value)
    return number if personal_number_is_valid(number) else None


def personal_number_detail() -> str:
    return _("This is not a valid identification number (14 characters, e.g. 3010180A001PB8).")
