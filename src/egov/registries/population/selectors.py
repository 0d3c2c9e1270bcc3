"""Reads of the population register, shaped as the services answer (see the OpenAPI files).

Who may call which service is decided by the exchange's access rights before a call reaches
the registry; these functions therefore take no ``actor``: the caller is recorded instead
(``services.data_access_record``)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from egov.registries.population.models import (
    AddressRegistration,
    DataAccess,
    Event,
    Marriage,
    ParentChild,
    Person,
)

ACCESS_LOG_LIMIT = 200


def _names(person: Person, field: str) -> dict[str, str]:
    return {
        "be": getattr(person, f"{field}_be"),
        "ru": getattr(person, f"{field}_ru"),
        "lat": getattr(person, f"{field}_lat"),
    }


def person_summary(person: Person) -> dict[str, Any]:
    return {
        "personal_number": person.personal_number,
        "last_name": _names(person, "last_name"),
        "first_name": _names(person, "first_name"),
        "patronymic": _names(person, "patronymic"),
        "birth_date": person.birth_date.isoformat(),
        "status": person.status,
    }


def person_get(*, personal_number: str) -> dict[str, Any] | None:
    person = (
        Person.objects.select_related("address").filter(personal_number=personal_number).first()
    )
    if person is None:
        return None
    return {
        "personal_number": person.personal_number,
        "last_name": _names(person, "last_name"),
        "first_name": _names(person, "first_name"),
        "patronymic": _names(person, "patronymic"),
        "birth_date": person.birth_date.isoformat(),
        "sex": person.sex,
        "citizenship": person.citizenship,
        "status": person.status,
        "death_date": person.death_date.isoformat() if person.death_date else None,
        "address": person.address.as_json() if person.address else None,
        "documents": [
            {
                "type": document.type,
                "number": document.number,
                "issued_on": document.issued_on.isoformat(),
                "valid_until": document.valid_until.isoformat() if document.valid_until else None,
                "authority": document.authority,
            }
            for document in person.documents.order_by("issued_on", "id")
        ],
    }


def family_get(*, personal_number: str) -> dict[str, Any] | None:
    person = Person.objects.filter(personal_number=personal_number).first()
    if person is None:
        return None
    parents = [
        link.parent
        for link in ParentChild.objects.filter(child=person)
        .select_related("parent")
        .order_by("parent__birth_date", "parent__personal_number")
    ]
    children = [
        link.child
        for link in ParentChild.objects.filter(parent=person)
        .select_related("child")
        .order_by("child__birth_date", "child__personal_number")
    ]
    marriage = (
        Marriage.objects.filter(Q(husband=person) | Q(wife=person), ended_on__isnull=True)
        .select_related("husband", "wife")
        .order_by("-married_on")
        .first()
    )
    spouse = None
    if marriage is not None:
        spouse = marriage.wife if marriage.husband_id == person.pk else marriage.husband
    return {
        "personal_number": person.personal_number,
        "parents": [person_summary(parent) for parent in parents],
        "children": [person_summary(child) for child in children],
        "spouse": person_summary(spouse) if spouse is not None else None,
    }


def address_history_get(*, personal_number: str) -> dict[str, Any] | None:
    person = Person.objects.filter(personal_number=personal_number).first()
    if person is None:
        return None
    registrations = (
        AddressRegistration.objects.filter(person=person)
        .select_related("address")
        .order_by("valid_from", "id")
    )
    return {
        "personal_number": person.personal_number,
        "addresses": [
            {
                "address": registration.address.as_json(),
                "from": registration.valid_from.isoformat(),
                "until": registration.valid_until.isoformat() if registration.valid_until else None,
                "kind": registration.kind,
            }
            for registration in registrations
        ],
    }


def events_after(*, after: int, limit: int) -> dict[str, Any]:
    """Events with an id above ``after``, in id order; ``next`` is the ``after`` of the next
    page, or None when this page reached the end of the feed."""
    events = list(Event.objects.filter(id__gt=after).order_by("id")[: limit + 1])
    more = len(events) > limit
    events = events[:limit]
    return {
        "events": [event.as_json() for event in events],
        "next": events[-1].pk if more else None,
    }


def event_subjects(events: list[dict[str, Any]]) -> list[str]:
    """The people an events page tells about: its subjects and the relatives it names."""
    subjects: list[str] = []
    for event in events:
        subjects.append(event["subject"])
        for key in ("spouse", "mother", "father"):
            value = event["data"].get(key)
            if isinstance(value, str) and value:
                subjects.append(value)
    return subjects


def accesses_for(*, personal_number: str) -> dict[str, Any]:
    accesses = DataAccess.objects.filter(subject=personal_number).order_by("-at", "-id")
    return {
        "personal_number": personal_number,
        "accesses": [access.as_json() for access in accesses[:ACCESS_LOG_LIMIT]],
    }
