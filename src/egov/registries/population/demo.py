"""The demo people's own records (``data/demo_people.yaml``), created once and left alone."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction

from egov.registries.addresses.models import Address
from egov.registries.legal_entities.models import Director, LegalEntity
from egov.registries.population.models import (
    AddressRegistration,
    IdentityDocument,
    Marriage,
    ParentChild,
    Person,
)
from egov.registries.population.names import transliterate

DEMO_PEOPLE_FILE = Path(__file__).resolve().parent / "data" / "demo_people.yaml"


def demo_people_data() -> dict[str, Any]:
    with DEMO_PEOPLE_FILE.open(encoding="utf-8") as handle:
        return dict(yaml.safe_load(handle))


def _address(fields: dict[str, Any]) -> Address:
    address, _created = Address.objects.get_or_create(
        text_ru=fields["text_ru"],
        defaults={
            "region": fields["region"],
            "district": fields.get("district", ""),
            "locality": fields["locality"],
            "street": fields.get("street", ""),
            "house": fields["house"],
            "flat": fields.get("flat", ""),
            "postal_code": fields["postal_code"],
            "text_be": fields["text_be"],
        },
    )
    return address


def _person(entry: dict[str, Any], addresses: dict[str, Address]) -> bool:
    if Person.objects.filter(personal_number=entry["personal_number"]).exists():
        return False
    history = entry.get("addresses", [])
    current = next(
        (item for item in history if item["kind"] == "residence" and not item.get("until")),
        None,
    )
    names: dict[str, str] = {}
    for field in ("last_name", "first_name", "patronymic"):
        value = entry.get(field, {})
        names[f"{field}_be"] = value.get("be", "")
        names[f"{field}_ru"] = value.get("ru", "")
        names[f"{field}_lat"] = value.get("lat") or transliterate(value.get("be", ""))
    person = Person.objects.create(
        personal_number=entry["personal_number"],
        birth_date=entry["birth_date"],
        sex=entry["sex"],
        citizenship=entry.get("citizenship", "BY"),
        status=entry.get("status", "alive"),
        death_date=entry.get("death_date"),
        address=addresses[current["address"]] if current else None,
        **names,
    )
    for item in history:
        AddressRegistration.objects.create(
            person=person,
            address=addresses[item["address"]],
            kind=item["kind"],
            valid_from=item["from"],
            valid_until=item.get("until"),
        )
    for document in entry.get("documents", []):
        IdentityDocument.objects.create(
            person=person,
            type=document["type"],
            number=document["number"],
            issued_on=document["issued_on"],
            valid_until=document.get("valid_until"),
            authority=document["authority"],
        )
    return True


def _entity(entry: dict[str, Any], addresses: dict[str, Address]) -> bool:
    entity, created = LegalEntity.objects.get_or_create(
        unp=entry["unp"],
        defaults={
            "name_be": entry["name"]["be"],
            "name_ru": entry["name"]["ru"],
            "short_name_be": entry["short_name"]["be"],
            "short_name_ru": entry["short_name"]["ru"],
            "legal_form": entry["legal_form"],
            "status": entry["status"],
            "address": addresses[entry["address"]],
            "registered_on": entry["registered_on"],
        },
    )
    if created:
        for director in entry.get("directors", []):
            Director.objects.create(
                entity=entity,
                personal_number=director["personal_number"],
                full_name=director["full_name"],
                since=director["since"],
                until=director.get("until"),
            )
    return created


@transaction.atomic
def demo_people_ensure(*, data: dict[str, Any] | None = None) -> dict[str, int]:
    """Create the demo people, their families and companies that are missing (idempotent)."""
    data = data or demo_people_data()
    addresses = {key: _address(fields) for key, fields in data.get("addresses", {}).items()}
    persons = sum(_person(entry, addresses) for entry in data.get("persons", []))
    by_number = {
        person.personal_number: person
        for person in Person.objects.filter(
            personal_number__in=[entry["personal_number"] for entry in data.get("persons", [])]
        )
    }
    for marriage in data.get("marriages", []):
        married_on: datetime.date = marriage["married_on"]
        Marriage.objects.get_or_create(
            husband=by_number[marriage["husband"]],
            wife=by_number[marriage["wife"]],
            defaults={"married_on": married_on, "ended_on": marriage.get("ended_on")},
        )
    for link in data.get("parents", []):
        ParentChild.objects.get_or_create(
            parent=by_number[link["parent"]], child=by_number[link["child"]]
        )
    entities = sum(_entity(entry, addresses) for entry in data.get("entities", []))
    return {"persons": persons, "entities": entities}
