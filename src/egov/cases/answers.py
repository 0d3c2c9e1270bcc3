"""Form answers: from what a browser posts to typed values, and their validation against the
form's JSON Schema with translated messages placed at their fields."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema
from django.utils.translation import gettext as _

from egov.catalog.definitions import text
from egov.core.numbers import (
    MAX_DIGITS,
    NotWhole,
    NumberError,
    NumberOutOfBounds,
    parse_float,
    parse_integer,
)

FORMAT_CHECKER = jsonschema.Draft202012Validator.FORMAT_CHECKER
MAX_TEXT = 5000


@dataclass(frozen=True)
class Field:
    """A form field as the definition describes it, with its schema property."""

    name: str
    widget: str
    spec: Mapping[str, Any]
    prop: Mapping[str, Any]
    required: bool

    def label(self, language: str) -> str:
        return text(self.spec.get("label"), language)

    def hint(self, language: str) -> str:
        return text(self.spec.get("hint"), language)

    def options(self, language: str) -> list[tuple[str, str]]:
        return [
            (option["value"], text(option["label"], language))
            for option in self.spec.get("options", [])
        ]


def form_fields(definition: Mapping[str, Any], step_code: str | None = None) -> list[Field]:
    """The fields of one step (or of the whole form), in the order they are asked."""
    schema = definition["form"]["schema"]
    required = set(schema.get("required", []))
    fields = []
    for step in definition["form"]["steps"]:
        if step_code is not None and step["code"] != step_code:
            continue
        for spec in step["fields"]:
            fields.append(
                Field(
                    name=spec["name"],
                    widget=spec["widget"],
                    spec=spec,
                    prop=schema["properties"][spec["name"]],
                    required=spec["name"] in required,
                )
            )
    return fields


def answers_parse(
    fields: Iterable[Field], post: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Typed values from posted strings. A field left empty is absent from the values (the
    schema's ``required`` then speaks); a value that cannot be read gets a message."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in fields:
        name = field.name
        if field.widget == "date":
            parts = [
                str(post.get(f"{name}-{part}", "")).strip() for part in ("day", "month", "year")
            ]
            if not any(parts):
                continue
            try:
                day, month, year = (parse_integer(part, minimum=0, maximum=9999) for part in parts)
                if year < 1000:
                    raise ValueError
                values[name] = datetime.date(year, month, day).isoformat()
            except ValueError:
                errors[name] = _("Enter a real date, for example 27 3 2026.")
            continue
        if field.widget == "checkboxes":
            chosen = post.getlist(name) if hasattr(post, "getlist") else post.get(name, [])
            chosen = [str(item) for item in chosen if str(item)]
            if chosen:
                values[name] = chosen
            continue
        raw = str(post.get(name, "")).strip()
        if not raw:
            continue
        if len(raw) > MAX_TEXT:
            errors[name] = _("Enter %(count)d characters or fewer.") % {"count": MAX_TEXT}
            continue
        if field.widget == "yes_no":
            if raw not in ("yes", "no"):
                errors[name] = _("Select yes or no.")
            else:
                values[name] = raw == "yes"
        elif field.widget == "number":
            error = _number_read(field, raw.replace(",", ".").replace(" ", ""), values)
            if error:
                errors[name] = error
        elif field.widget == "personal_number":
            values[name] = raw.replace(" ", "").upper()
        else:
            values[name] = raw
    return values, errors


def _number_read(field: Field, raw: str, values: dict[str, Any]) -> str:
    """Put the number in ``values`` or say what is wrong with it; bounded before anything is
    converted (``egov.core.numbers``)."""
    try:
        if field.prop.get("type") == "integer":
            values[field.name] = parse_integer(raw)
        else:
            values[field.name] = parse_float(raw)
    except NotWhole:
        return _("Enter a whole number.")
    except NumberOutOfBounds:
        return _("Enter a number with no more than %(count)d digits.") % {"count": MAX_DIGITS}
    except NumberError:
        return _("Enter a number.")
    return ""


def _message(error: jsonschema.ValidationError, field: Field | None, language: str) -> str:
    validator = error.validator
    value = error.validator_value
    choice = field is not None and field.widget in ("radios", "select", "checkboxes", "yes_no")
    if validator == "required":
        return _("Select an answer.") if choice else _("Enter an answer.")
    if validator in ("enum", "const"):
        return _("Select one of the options.")
    if validator == "minLength":
        return _("Enter at least %(count)d characters.") % {"count": value}
    if validator == "maxLength":
        return _("Enter %(count)d characters or fewer.") % {"count": value}
    if validator in ("minimum", "exclusiveMinimum"):
        return _("Enter a number of at least %(limit)s.") % {"limit": value}
    if validator in ("maximum", "exclusiveMaximum"):
        return _("Enter a number no more than %(limit)s.") % {"limit": value}
    if validator in ("minItems",):
        return _("Select at least %(count)d.") % {"count": value}
    if validator in ("maxItems",):
        return _("Select no more than %(count)d.") % {"count": value}
    if validator == "format" and value == "email":
        return _("Enter an email address like name@example.com.")
    if validator == "format" and value == "date":
        return _("Enter a real date, for example 27 3 2026.")
    if validator == "type":
        return _("Check the answer: it has the wrong form.")
    if validator == "pattern" and field is not None and field.spec.get("error"):
        return text(field.spec["error"], language)
    return _("Check the answer: it is not in the expected form.")


_VALIDATORS: dict[Any, tuple[Any, dict[str, Field]]] = {}


def _validator(definition: Mapping[str, Any], cache_key: Any) -> tuple[Any, dict[str, Field]]:
    """A validator and the fields of a form; built once per published version and process
    (``cache_key``), since published definitions never change."""
    cached = _VALIDATORS.get(cache_key) if cache_key is not None else None
    if cached is None:
        schema = definition["form"]["schema"]
        validator = jsonschema.Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
        cached = (validator, {field.name: field for field in form_fields(definition)})
        if cache_key is not None:
            _VALIDATORS[cache_key] = cached
    return cached


def answers_validate(
    *,
    definition: Mapping[str, Any],
    data: Mapping[str, Any],
    only: Iterable[str] | None = None,
    language: str,
    cache_key: Any = None,
) -> dict[str, str]:
    """Messages by field name; empty when the answers are valid. With ``only``, problems of
    other fields (not yet asked) are ignored."""
    validator, fields = _validator(definition, cache_key)
    wanted = set(only) if only is not None else set(fields)
    errors: dict[str, str] = {}
    for error in validator.iter_errors(dict(data)):
        for leaf in _leaves(error):
            names: list[str]
            if leaf.validator == "required" and isinstance(leaf.instance, dict):
                names = [name for name in leaf.validator_value if name not in leaf.instance]
            elif leaf.absolute_path:
                names = [str(leaf.absolute_path[0])]
            else:
                continue
            for name in names:
                if name in wanted and name not in errors:
                    errors[name] = _message(leaf, fields.get(name), language)
    return errors


def _leaves(error: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
    """Errors of combinators (if/then, allOf) carry the useful ones in their context."""
    if error.context:
        return [leaf for child in error.context for leaf in _leaves(child)]
    return [error]


def answers_clean(*, definition: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """Only the properties the form has: anything else a client sends is dropped."""
    properties = definition["form"]["schema"]["properties"]
    return {key: value for key, value in data.items() if key in properties}
