"""Reads of the legal entities register, shaped as the services answer.

As in the population register, the exchange's access rights decide who may call; the caller
of a personal-data service is recorded (``services.data_access_record``)."""

from __future__ import annotations

from typing import Any

from egov.registries.legal_entities.models import DataAccess, Director, Event, LegalEntity

ACCESS_LOG_LIMIT = 200


def _names(entity: LegalEntity) -> dict[str, Any]:
    return {
        "name": {"be": entity.name_be, "ru": entity.name_ru},
        "short_name": {"be": entity.short_name_be, "ru": entity.short_name_ru},
    }


def entity_get(*, unp: str) -> dict[str, Any] | None:
    entity = LegalEntity.objects.select_related("address").filter(unp=unp).first()
    if entity is None:
        return None
    directors = Director.objects.filter(entity=entity, until__isnull=True).order_by("since", "id")
    return {
        "unp": entity.unp,
        **_names(entity),
        "legal_form": entity.legal_form,
        "status": entity.status,
        "registered_on": entity.registered_on.isoformat(),
        "address": entity.address.as_json(),
        "directors": [
            {
                "personal_number": director.personal_number,
                "full_name": director.full_name,
                "since": director.since.isoformat(),
            }
            for director in directors
        ],
    }


def entities_directed_by(*, personal_number: str) -> dict[str, Any]:
    """The entities the person heads now (a finished directorship is not listed)."""
    directorships = (
        Director.objects.filter(personal_number=personal_number, until__isnull=True)
        .select_related("entity")
        .order_by("since", "entity__unp")
    )
    return {
        "personal_number": personal_number,
        "entities": [
            {
                "unp": directorship.entity.unp,
                **_names(directorship.entity),
                "legal_form": directorship.entity.legal_form,
                "status": directorship.entity.status,
                "since": directorship.since.isoformat(),
            }
            for directorship in directorships
        ],
    }


def events_after(*, after: int, limit: int) -> dict[str, Any]:
    events = list(Event.objects.filter(id__gt=after).order_by("id")[: limit + 1])
    more = len(events) > limit
    events = events[:limit]
    return {
        "events": [event.as_json() for event in events],
        "next": events[-1].pk if more else None,
    }


def accesses_for(*, personal_number: str) -> dict[str, Any]:
    accesses = DataAccess.objects.filter(subject=personal_number).order_by("-at", "-id")
    return {
        "personal_number": personal_number,
        "accesses": [access.as_json() for access in accesses[:ACCESS_LOG_LIMIT]],
    }
