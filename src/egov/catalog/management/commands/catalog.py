"""``egov catalog load``: publish a country's service catalogue and its service definitions.

The catalogue is a YAML document in the format of ``data/demo_catalogue.yaml`` (base units,
agencies, categories, life events, services); the definitions are a folder of YAML files,
each ``{service: CODE, definition: {...}}`` as in ``data/definitions/`` (docs/service-
definitions.md). Both are loaded in one transaction: a broken file stops the load with its
name and the place of the error, and nothing is written. Loading the same files again changes
nothing.
"""

from __future__ import annotations

from argparse import ArgumentParser
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, transaction

from egov.catalog.definitions import DefinitionInvalid
from egov.catalog.models import (
    Agency,
    Category,
    LifeEvent,
    Service,
    agency_code_validator,
    service_code_validator,
)
from egov.catalog.services import catalogue_load, definitions_load

#: Each section of the catalogue document: the key that names a row, and the keys it needs.
SECTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "base_units": ("valid_from", ("valid_from", "amount")),
    "agencies": ("code", ("code", "name", "short_name")),
    "categories": ("slug", ("slug", "name")),
    "life_events": ("slug", ("slug", "name")),
    "services": ("code", ("code", "agency", "name", "max_processing_days")),
}


class CatalogueInvalid(Exception):
    """A catalogue or definition file that cannot be loaded; the message names the place."""


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CatalogueInvalid(f"{path}: cannot be read: {error}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise CatalogueInvalid(f"{path}{where}: not valid YAML: {problem}") from None


def _row_name(section: str, index: int, row: Any) -> str:
    key = SECTIONS[section][0]
    if isinstance(row, dict) and row.get(key) not in (None, ""):
        return f"{section}[{index}] ({row[key]})"
    return f"{section}[{index}]"


def catalogue_check(data: Any, *, path: Path) -> None:
    """The document's shape: sections are lists of mappings with the keys each row needs, and
    every agency, category and life event a service names is in the document or the
    catalogue already."""
    if not isinstance(data, dict):
        raise CatalogueInvalid(f"{path}: the catalogue must be a mapping of sections")
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise CatalogueInvalid(
            f"{path}: unknown sections: {', '.join(map(str, unknown))} "
            f"(known: {', '.join(SECTIONS)})"
        )
    for section, (_key, required) in SECTIONS.items():
        rows = data.get(section, [])
        if not isinstance(rows, list):
            raise CatalogueInvalid(f"{path}: {section} must be a list")
        for index, row in enumerate(rows):
            if not isinstance(row, dict):
                raise CatalogueInvalid(f"{path}: {section}[{index}] must be a mapping")
            missing = [name for name in required if row.get(name) in (None, "")]
            if missing:
                raise CatalogueInvalid(
                    f"{path}: {_row_name(section, index, row)}: missing {', '.join(missing)}"
                )
    for section, key, validator in (
        ("agencies", "code", agency_code_validator),
        ("services", "code", service_code_validator),
    ):
        for index, row in enumerate(data.get(section, [])):
            try:
                validator(str(row[key]))
            except ValidationError as error:
                raise CatalogueInvalid(
                    f"{path}: {_row_name(section, index, row)}: {key}: {' '.join(error.messages)}"
                ) from None
    for index, row in enumerate(data.get("base_units", [])):
        try:
            Decimal(str(row["amount"]))
        except InvalidOperation:
            raise CatalogueInvalid(
                f"{path}: {_row_name('base_units', index, row)}: amount "
                f"{row['amount']!r} is not a number"
            ) from None
    known = {
        "agency": _codes(data, "agencies", "code", Agency.objects.values_list("code", flat=True)),
        "categories": _codes(
            data, "categories", "slug", Category.objects.values_list("slug", flat=True)
        ),
        "life_events": _codes(
            data, "life_events", "slug", LifeEvent.objects.values_list("slug", flat=True)
        ),
    }
    for index, row in enumerate(data.get("services", [])):
        name = _row_name("services", index, row)
        if str(row["agency"]) not in known["agency"]:
            raise CatalogueInvalid(f"{path}: {name}: unknown agency {row['agency']}")
        for field in ("categories", "life_events"):
            values = row.get(field, [])
            if not isinstance(values, list):
                raise CatalogueInvalid(f"{path}: {name}: {field} must be a list")
            missing = [str(value) for value in values if str(value) not in known[field]]
            if missing:
                label = field.replace("_", " ")
                raise CatalogueInvalid(f"{path}: {name}: unknown {label}: {', '.join(missing)}")


def _codes(data: dict[str, Any], section: str, key: str, existing: Iterable[str]) -> set[str]:
    return {str(row[key]) for row in data.get(section, [])} | set(existing)


def definitions_check(directory: Path, *, services: set[str]) -> int:
    """Every definition file reads as ``{service, definition}`` for a service of the
    catalogue; the definitions themselves are validated when they are loaded."""
    if not directory.is_dir():
        raise CatalogueInvalid(f"{directory}: not a folder")
    files = sorted(directory.glob("*.yaml"))
    for file in files:
        data = _read_yaml(file)
        if not isinstance(data, dict) or not isinstance(data.get("definition"), dict):
            raise CatalogueInvalid(
                f"{file.name}: a definition file is a mapping with `service` (a service "
                "code) and `definition`"
            )
        if str(data.get("service", "")) not in services:
            raise CatalogueInvalid(
                f"{file.name}: service {data.get('service')!r} is not in the catalogue"
            )
    return len(files)


class Command(BaseCommand):
    help = (
        "The service catalogue: `load` creates or updates agencies, categories, life events "
        "and services from a catalogue YAML and publishes the service definitions of a folder "
        "(idempotent; nothing is written when a file is broken)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        load = commands.add_parser(
            "load",
            help="load a catalogue document and, optionally, a folder of service definitions",
            description="Load CATALOGUE (YAML in the format of the demo's "
            "src/egov/catalog/data/demo_catalogue.yaml: base_units, agencies, categories, "
            "life_events, services), then publish every *.yaml definition in --definitions "
            "(each {service: CODE, definition: ...}, docs/service-definitions.md). Records "
            "are matched by code or slug, so loading again changes nothing; a changed "
            "definition becomes a new published version.",
        )
        load.add_argument("catalogue", type=Path, metavar="CATALOGUE.yaml")
        load.add_argument(
            "--definitions",
            type=Path,
            default=None,
            metavar="DIR",
            help="folder of service definition files (*.yaml) to publish",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["catalogue"]
        directory: Path | None = options["definitions"]
        try:
            data = _read_yaml(path)
            catalogue_check(data, path=path)
            if directory is not None:
                services = {str(row["code"]) for row in data.get("services", [])}
                services |= set(Service.objects.values_list("code", flat=True))
                definitions_check(directory, services=services)
            with transaction.atomic():
                counts = self._catalogue(data, path)
                if directory is not None:
                    try:
                        loaded = definitions_load(directory=directory)
                    except DefinitionInvalid as error:
                        raise CatalogueInvalid(str(error)) from None
                    counts |= {f"definitions {key}": value for key, value in loaded.items()}
        except CatalogueInvalid as error:
            raise CommandError(f"{error}\nNothing was loaded.") from None
        summary = ", ".join(f"{name.replace('_', ' ')}: {count}" for name, count in counts.items())
        self.stdout.write(f"catalogue loaded from {path} ({summary})")

    def _catalogue(self, data: dict[str, Any], path: Path) -> dict[str, int]:
        current: dict[str, Any] = {}

        def progress(items: Iterable[Any]) -> Iterable[Any]:
            for index, row in enumerate(items):
                current.update(index=index, row=row)
                yield row

        def where() -> str:
            if not current:
                return "catalogue"
            return _row_name("services", current["index"], current["row"])

        try:
            with transaction.atomic():
                return catalogue_load(data=data, progress=progress)
        except ValidationError as error:
            problems = "; ".join(
                f"{field}: {' '.join(str(message) for message in messages)}"
                for field, messages in error.message_dict.items()
            )
            raise CatalogueInvalid(f"{path}: {where()}: {problems}") from None
        except (ObjectDoesNotExist, DatabaseError, KeyError, TypeError, ValueError) as error:
            raise CatalogueInvalid(f"{path}: {where()}: cannot be loaded: {error}") from None
