"""Write use cases of the catalogue: loading it, and keeping its search index current."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from modeltranslation.translator import translator

from egov.catalog import search
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
from egov.catalog.stemming import index_terms
from egov.core import pagecache
from egov.core.errors import ApplicationError

LANGUAGES = ("be", "ru", "en")
CATALOGUE_PAGES = "catalogue"


def service_search_index_update(*, service: Service) -> None:
    """Rebuild one service's search entries from its current texts in every language."""
    agency = service.agency
    categories = list(service.categories.all())
    life_events = list(service.life_events.all())
    entries = {}
    for language, _name in settings.LANGUAGES:

        def text(obj: Any, field: str, language: str = language) -> str:
            return str(getattr(obj, f"{field}_{language}", "") or "")

        title = text(service, "name")
        body = " ".join(
            [
                service.code,
                *(
                    text(service, field)
                    for field in ("summary", "description", "who_can_apply", "documents", "result")
                ),
                text(agency, "name"),
                text(agency, "short_name"),
                *(text(category, "name") for category in categories),
                *(text(event, "name") for event in life_events),
            ]
        )
        entries[language] = (index_terms(title, language), index_terms(body, language))
    search.index_replace(service_id=service.pk, entries=entries)
    pagecache.bump(CATALOGUE_PAGES)


def catalogue_changed() -> None:
    """Something the catalogue pages show has changed: cached pages must go."""
    pagecache.bump(CATALOGUE_PAGES)


def catalogue_reindex() -> int:
    services = Service.objects.select_related("agency").prefetch_related(
        "categories", "life_events"
    )
    count = 0
    with transaction.atomic():
        for service in services:
            service_search_index_update(service=service)
            count += 1
    return count


def _translated(prefix: str, values: dict[str, str] | None) -> dict[str, str]:
    values = values or {}
    return {f"{prefix}_{language}": str(values.get(language, "") or "") for language in LANGUAGES}


def catalogue_load(
    *, data: dict[str, Any], progress: Callable[[Iterable[Any]], Iterable[Any]] = iter
) -> dict[str, int]:
    """Create or update the catalogue from a document (the demo's YAML). Idempotent: records
    are matched by code or slug, so running it twice changes nothing the second time."""
    counts = {"base_units": 0, "agencies": 0, "categories": 0, "life_events": 0, "services": 0}
    with transaction.atomic():
        for row in data.get("base_units", []):
            BaseUnit.objects.update_or_create(
                valid_from=date.fromisoformat(str(row["valid_from"])),
                defaults={
                    "amount": Decimal(str(row["amount"])),
                    "legal_act": row.get("legal_act", ""),
                },
            )
            counts["base_units"] += 1
        agencies = {}
        for row in data.get("agencies", []):
            fields: dict[str, Any] = {
                **_translated("name", row["name"]),
                **_translated("short_name", row["short_name"]),
                **_translated("description", row.get("description")),
                **_translated("address", row.get("address")),
                "phone": row.get("phone", ""),
                "email": row.get("email", ""),
                "website": row.get("website", ""),
            }
            agencies[row["code"]], _created = Agency.objects.update_or_create(
                code=row["code"], defaults=fields
            )
            counts["agencies"] += 1
        categories = {}
        for row in data.get("categories", []):
            categories[row["slug"]], _created = Category.objects.update_or_create(
                slug=row["slug"],
                defaults={
                    **_translated("name", row["name"]),
                    **_translated("description", row.get("description")),
                    "position": row.get("position", 0),
                },
            )
            counts["categories"] += 1
        life_events = {}
        for row in data.get("life_events", []):
            life_events[row["slug"]], _created = LifeEvent.objects.update_or_create(
                slug=row["slug"],
                defaults={
                    **_translated("name", row["name"]),
                    **_translated("description", row.get("description")),
                    "audience": row.get("audience", "citizens"),
                    "position": row.get("position", 0),
                },
            )
            counts["life_events"] += 1
        for row in progress(data.get("services", [])):
            fields = {
                "agency": agencies.get(row["agency"]) or Agency.objects.get(code=row["agency"])
            }
            for field in translator.get_options_for_model(Service).get_field_names():
                fields.update(_translated(field, row.get(field)))
            fields.update(
                audience=row.get("audience", "citizens"),
                fee_base_units=Decimal(str(row.get("fee_base_units", "0"))),
                max_processing_days=int(row["max_processing_days"]),
                required_assurance=row.get("required_assurance", "low"),
                maturity=row.get("maturity", "information"),
                popularity=int(row.get("popularity", 0)),
                is_published=bool(row.get("is_published", True)),
            )
            service, _created = Service.objects.update_or_create(code=row["code"], defaults=fields)
            service.full_clean()
            service.categories.set(
                categories.get(slug) or Category.objects.get(slug=slug)
                for slug in row.get("categories", [])
            )
            service.life_events.set(
                life_events.get(slug) or LifeEvent.objects.get(slug=slug)
                for slug in row.get("life_events", [])
            )
            service_search_index_update(service=service)
            counts["services"] += 1
    return counts


# --- service definitions --------------------------------------------------------------------


def service_version_create(
    *, service: Service, definition: dict[str, Any], change_note: str = ""
) -> ServiceVersion:
    """A new draft version; a broken definition raises ``DefinitionInvalid`` with its path."""
    definition_validate(definition)
    with transaction.atomic():
        Service.objects.select_for_update().get(pk=service.pk)
        last = service.versions.order_by("-number").values_list("number", flat=True).first()
        return ServiceVersion.objects.create(
            service=service,
            number=(last or 0) + 1,
            definition=definition,
            change_note=change_note,
        )


def service_version_publish(*, version: ServiceVersion) -> ServiceVersion:
    """Publish a draft; the version published before it retires in the same transaction."""
    definition_validate(version.definition)
    with transaction.atomic():
        version = ServiceVersion.objects.select_for_update().get(pk=version.pk)
        if version.status != VersionStatus.DRAFT:
            raise ApplicationError(
                _("Only a draft version can be published."), code="version_not_draft"
            )
        now = timezone.now()
        ServiceVersion.objects.filter(
            service_id=version.service_id, status=VersionStatus.PUBLISHED
        ).update(status=VersionStatus.RETIRED, retired_at=now)
        version.status = VersionStatus.PUBLISHED
        version.published_at = now
        version.save(update_fields=["status", "published_at", "updated_at"])
        catalogue_changed()
    return version


def service_version_retire(*, version: ServiceVersion) -> ServiceVersion:
    """Stop new applications on this version; existing ones carry on with it."""
    with transaction.atomic():
        version = ServiceVersion.objects.select_for_update().get(pk=version.pk)
        if version.status != VersionStatus.PUBLISHED:
            raise ApplicationError(
                _("Only the published version can be retired."), code="version_not_published"
            )
        version.status = VersionStatus.RETIRED
        version.retired_at = timezone.now()
        version.save(update_fields=["status", "retired_at", "updated_at"])
        catalogue_changed()
    return version


def definitions_load(*, directory: Path) -> dict[str, int]:
    """Load every ``*.yaml`` definition file of a folder, each ``{service: code, definition}``.

    A definition equal to the published one changes nothing; a changed one becomes a new
    published version (the old one retires). Any broken file stops the load with its name
    and the path of the error, and nothing is written.
    """
    counts = {"published": 0, "unchanged": 0}
    with transaction.atomic():
        for file in sorted(directory.glob("*.yaml")):
            with file.open(encoding="utf-8") as handle:
                data = yaml.safe_load(handle)
            try:
                service = Service.objects.get(code=data["service"])
                current = (
                    service.versions.filter(status=VersionStatus.PUBLISHED)
                    .order_by("-number")
                    .first()
                )
                if current is not None and current.definition == data["definition"]:
                    counts["unchanged"] += 1
                    continue
                version = service_version_create(
                    service=service,
                    definition=data["definition"],
                    change_note=data.get("change_note", ""),
                )
            except DefinitionInvalid as error:
                raise DefinitionInvalid(f"{file.name}: {error.path}", error.detail) from error
            service_version_publish(version=version)
            counts["published"] += 1
    return counts


def service_version_update(
    *, version: ServiceVersion, definition: dict[str, Any], change_note: str = ""
) -> ServiceVersion:
    """Change a draft's definition. Published and retired versions never change."""
    definition_validate(definition)
    with transaction.atomic():
        version = ServiceVersion.objects.select_for_update().get(pk=version.pk)
        if version.status != VersionStatus.DRAFT:
            raise ApplicationError(
                _("A published or retired version cannot change: make a new version."),
                code="version_not_draft",
            )
        version.definition = definition
        version.change_note = change_note
        version.save(update_fields=["definition", "change_note", "updated_at"])
    return version
