"""Write use cases of the catalogue: loading it, and keeping its search index current."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from modeltranslation.translator import translator

from egov.catalog import search
from egov.catalog.models import Agency, BaseUnit, Category, LifeEvent, Service
from egov.catalog.stemming import index_terms
from egov.core import pagecache

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
