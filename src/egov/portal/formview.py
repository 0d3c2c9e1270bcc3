"""Turning a service definition's fields into what the form templates render: labels, hints,
values and errors in the person's language, GOV.UK style (one question group per page)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from egov.cases.answers import Field, form_fields
from egov.catalog.definitions import text

INPUT_TYPES = {"email": "email", "tel": "tel", "number": "text"}
AUTOCOMPLETE = {"email": "email", "tel": "tel"}


@dataclass
class FieldView:
    name: str
    widget: str
    label: str
    hint: str
    required: bool
    value: Any = ""
    error: str = ""
    options: list[dict[str, Any]] = field(default_factory=list)
    day: str = ""
    month: str = ""
    year: str = ""
    input_type: str = "text"
    autocomplete: str = ""
    inputmode: str = ""
    maxlength: int | None = None
    #: Filled from a register: shown read-only, with where it comes from.
    source: str = ""
    display: str = ""


def language() -> str:
    return (get_language() or "be")[:2]


def field_views(
    definition: Mapping[str, Any],
    step_code: str,
    values: Mapping[str, Any],
    errors: Mapping[str, str],
    posted: Mapping[str, Any] | None = None,
    sources: Mapping[str, str] | None = None,
) -> list[FieldView]:
    """Fields of one step. After a failed post, what the person typed is shown back as
    typed (``posted``), not as it was saved. A field in ``sources`` (field → "From the
    population register") came from a register: it is shown, not asked."""
    lang = language()
    sources = sources or {}
    views = []
    for item in form_fields(definition, step_code):
        if item.name in sources:
            views.append(
                FieldView(
                    name=item.name,
                    widget=item.widget,
                    label=item.label(lang),
                    hint="",
                    required=item.required,
                    source=sources[item.name],
                    display=answer_display(item, values.get(item.name), lang),
                )
            )
            continue
        view = FieldView(
            name=item.name,
            widget=item.widget,
            label=item.label(lang),
            hint=item.hint(lang),
            required=item.required,
            error=errors.get(item.name, ""),
            input_type=INPUT_TYPES.get(item.widget, "text"),
            autocomplete=AUTOCOMPLETE.get(item.widget, ""),
            inputmode="decimal" if item.widget == "number" else "",
            maxlength=item.prop.get("maxLength"),
        )
        current = values.get(item.name)
        if item.widget == "date":
            if posted is not None:
                view.day, view.month, view.year = (
                    str(posted.get(f"{item.name}-{part}", "")) for part in ("day", "month", "year")
                )
            elif current:
                parsed = datetime.date.fromisoformat(current)
                view.day, view.month, view.year = (
                    str(parsed.day),
                    str(parsed.month),
                    str(parsed.year),
                )
        elif item.widget == "checkboxes":
            chosen = posted.getlist(item.name) if posted is not None else (current or [])  # type: ignore[attr-defined]
            view.options = [
                {"value": value, "label": label, "checked": value in chosen}
                for value, label in item.options(lang)
            ]
        elif item.widget in ("radios", "select"):
            chosen = posted.get(item.name) if posted is not None else current
            view.options = [
                {"value": value, "label": label, "checked": value == chosen}
                for value, label in item.options(lang)
            ]
        elif item.widget == "yes_no":
            chosen = (
                posted.get(item.name)
                if posted is not None
                else ("yes" if current is True else "no" if current is False else "")
            )
            view.options = [
                {"value": "yes", "label": _("Yes"), "checked": chosen == "yes"},
                {"value": "no", "label": _("No"), "checked": chosen == "no"},
            ]
        else:
            view.value = posted.get(item.name, "") if posted is not None else (current or "")
        views.append(view)
    return views


def answer_display(item: Field, value: Any, lang: str) -> str:
    """An answer as a person reads it on the "check your answers" and case pages."""
    if value is None or value == "" or value == []:
        return ""
    if item.widget == "date":
        try:
            return datetime.date.fromisoformat(value).strftime("%d.%m.%Y")
        except (TypeError, ValueError):
            return str(value)
    if item.widget == "yes_no":
        return _("Yes") if value else _("No")
    options = dict(item.options(lang))
    if item.widget == "checkboxes":
        return ", ".join(options.get(str(v), str(v)) for v in value)
    if item.widget in ("radios", "select"):
        return options.get(str(value), str(value))
    return str(value)


@dataclass
class StepSummary:
    code: str
    title: str
    #: (label, answer, source): the source is "" for what the person typed.
    rows: list[tuple[str, str, str]]


def answers_summary(
    definition: Mapping[str, Any],
    data: Mapping[str, Any],
    sources: Mapping[str, str] | None = None,
) -> list[StepSummary]:
    lang = language()
    sources = sources or {}
    out = []
    for step in definition["form"]["steps"]:
        fields = form_fields(definition, step["code"])
        rows = [
            (
                item.label(lang),
                answer_display(item, data.get(item.name), lang),
                sources.get(item.name, ""),
            )
            for item in fields
        ]
        out.append(StepSummary(step["code"], text(step["title"], lang), rows))
    return out


def step_codes(definition: Mapping[str, Any]) -> list[str]:
    return [step["code"] for step in definition["form"]["steps"]]


def step_title(definition: Mapping[str, Any], step_code: str) -> str:
    for step in definition["form"]["steps"]:
        if step["code"] == step_code:
            return text(step["title"], language())
    return ""


def step_hint(definition: Mapping[str, Any], step_code: str) -> str:
    for step in definition["form"]["steps"]:
        if step["code"] == step_code:
            return text(step.get("hint"), language())
    return ""
