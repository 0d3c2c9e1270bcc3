"""Reads of the catalogue. Unpublished services are visible only to platform admins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from egov.catalog import search
from egov.catalog.models import (
    Agency,
    BaseUnit,
    Category,
    LifeEvent,
    Service,
    ServiceVersion,
    VersionStatus,
)

MAX_QUERY_LENGTH = 200


def _can_preview(actor: Any) -> bool:
    return bool(actor is not None and getattr(actor, "is_staff", False))


def service_queryset(*, actor: Any = None) -> QuerySet[Service]:
    services = Service.objects.select_related("agency")
    if not _can_preview(actor):
        services = services.filter(is_published=True)
    return services


def service_get(*, code: str, actor: Any = None) -> Service | None:
    return (
        service_queryset(actor=actor)
        .prefetch_related("categories", "life_events")
        .filter(code=code)
        .first()
    )


APPLYING_FIELDS = (
    "id",
    "code",
    "audience",
    "is_published",
    "maturity",
    "required_assurance",
    "name",
    "name_be",
    "name_ru",
    "name_en",
    "agency__id",
    "agency__code",
    "agency__name",
    "agency__name_be",
    "agency__name_ru",
    "agency__name_en",
)


def service_to_apply_for(*, code: str, actor: Any = None) -> Service | None:
    """The service with its agency and its published version (``service.version_to_apply``,
    None if there is none), in one query when there is one: what submitting needs."""
    versions = ServiceVersion.objects.filter(status=VersionStatus.PUBLISHED, service__code=code)
    if not _can_preview(actor):
        versions = versions.filter(service__is_published=True)
    version = (
        versions.select_related("service", "service__agency")
        .only(
            "id",
            "number",
            "status",
            "updated_at",
            "service_id",
            *(f"service__{name}" for name in APPLYING_FIELDS),
        )
        .first()
    )
    if version is not None:
        found = version.service
        found.version_to_apply = version  # type: ignore[attr-defined]
        return found
    service = (
        service_queryset(actor=actor)
        .select_related("agency")
        .only(*APPLYING_FIELDS)
        .filter(code=code)
        .first()
    )
    if service is not None:
        service.version_to_apply = None  # type: ignore[attr-defined]
    return service


def service_list(
    *,
    actor: Any = None,
    audience: str | None = None,
    category: Category | None = None,
    life_event: LifeEvent | None = None,
    agency: Agency | None = None,
) -> list[Service]:
    services = service_queryset(actor=actor)
    if audience:
        services = services.filter(audience=audience)
    if category is not None:
        services = services.filter(categories=category)
    if life_event is not None:
        services = services.filter(life_events=life_event)
    if agency is not None:
        services = services.filter(agency=agency)
    return list(services)


def _published_count() -> Count:
    return Count("services", filter=Q(services__is_published=True), distinct=True)


def life_event_list(*, audience: str | None = None) -> list[LifeEvent]:
    events = LifeEvent.objects.annotate(service_count=_published_count()).filter(
        service_count__gt=0
    )
    if audience:
        events = events.filter(audience=audience)
    return list(events)


def category_list() -> list[Category]:
    return list(
        Category.objects.annotate(service_count=_published_count()).filter(service_count__gt=0)
    )


def agency_list() -> list[Agency]:
    return list(Agency.objects.annotate(service_count=_published_count()))


def life_event_get(*, slug: str) -> LifeEvent | None:
    return LifeEvent.objects.filter(slug=slug).first()


def category_get(*, slug: str) -> Category | None:
    return Category.objects.filter(slug=slug).first()


def agency_get(*, code: str) -> Agency | None:
    return Agency.objects.filter(code=code.upper()).first()


def agency_services(*, agency: Agency) -> list[Service]:
    return list(
        Service.objects.filter(agency=agency).prefetch_related(
            Prefetch("categories", queryset=Category.objects.all())
        )
    )


def popular_services(*, limit: int = 6) -> list[Service]:
    return list(service_queryset()[:limit])


def base_unit_on(day: date | None = None) -> BaseUnit | None:
    day = day or timezone.localdate()
    return BaseUnit.objects.filter(valid_from__lte=day).order_by("-valid_from").first()


@dataclass(frozen=True)
class Fee:
    base_units: Decimal
    amount: Decimal | None
    base_unit: BaseUnit | None


def service_fee(*, service: Service, day: date | None = None) -> Fee:
    """The fee in base units and in roubles at the base unit in force on the day."""
    unit = base_unit_on(day)
    amount = None
    if unit is not None:
        amount = (service.fee_base_units * unit.amount).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
    return Fee(base_units=service.fee_base_units, amount=amount, base_unit=unit)


def service_search(*, query: str, actor: Any = None, limit: int = 50) -> list[Service]:
    """Services matching the query, best first. Any text is accepted: it is cut to a sane
    length and reduced to words, so nothing a person types can break the search."""
    ids = search.search_service_ids((query or "")[:MAX_QUERY_LENGTH], limit=limit)
    if not ids:
        return []
    by_id = {service.pk: service for service in service_queryset(actor=actor).filter(pk__in=ids)}
    return [by_id[service_id] for service_id in ids if service_id in by_id]


_DEFINITIONS: dict[tuple[int, object], dict[str, Any]] = {}


def version_definition(version: ServiceVersion) -> dict[str, Any]:
    """A version's definition, read from the database once per process and version: it
    never changes once published, and a draft's key changes with every save."""
    key = (version.pk, version.updated_at)
    definition = _DEFINITIONS.get(key)
    if definition is None:
        definition = _DEFINITIONS[key] = version.definition
    return definition


def service_version_published(*, service: Service) -> ServiceVersion | None:
    """The version people apply with now, if the service can be applied for online."""
    return service.versions.filter(status=VersionStatus.PUBLISHED).first()


def service_version_to_apply_with(*, service: Service) -> ServiceVersion | None:
    """The published version, or else the last one that was: a submission repeated after the
    version retired must still find the application it made (a new one on a retired version
    is refused by ``cases.services.application_submit``)."""
    return service_version_published(service=service) or (
        service.versions.exclude(status=VersionStatus.DRAFT).order_by("-number").first()
    )
