"""Reads of the address register."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from egov.registries.addresses.models import Address

SEARCH_LIMIT = 20


def address_get(*, address_id: int) -> dict[str, Any] | None:
    address = Address.objects.filter(pk=address_id).first()
    return address.as_json() if address is not None else None


def addresses_search(*, text: str) -> dict[str, Any]:
    """Addresses whose Belarusian or Russian text contains every word of ``text``."""
    query = Q()
    for word in text.split():
        query &= Q(text_be__icontains=word) | Q(text_ru__icontains=word)
    addresses = Address.objects.filter(query).order_by("id")[:SEARCH_LIMIT]
    return {"addresses": [address.as_json() for address in addresses]}
