"""Fixtures of the registries' tests: each provider's own gateway key, the headers its gateway
adds to a call, and the demo people."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from egov.core.exchange_files import provider_key_path

CLIENT = "BY/GOV/MVD/backoffice"
POPULATION = "BY/GOV/MVD/population"
LEGAL_ENTITIES = "BY/GOV/MINJUST/legal-entities"
ADDRESSES = "BY/GOV/NKA/addresses"
#: The request id the provider gateway generated (and signed) for the call, not the client's.
REQUEST_ID = "0b7e5c1d-9a3f-4e21-8c6d-2f4a1b3c5d7e"

#: What the demo's right of a back office to the population register declares.
CHECK_PURPOSE = {
    "code": "check",
    "text": {
        "be": "Праверка звестак заявы",
        "ru": "Проверка сведений заявления",
        "en": "Checking an application's facts",
    },
    "legal_basis": {
        "be": "Закон № 433-З, арт. 21",
        "ru": "Закон № 433-З, ст. 21",
        "en": "Law No. 433-Z, Article 21",
    },
}


def purposes_header(*purposes: dict[str, Any]) -> str:
    """``X-Egov-Purposes`` as the provider gateway writes it: a JSON array, ASCII only."""
    return json.dumps(list(purposes or [CHECK_PURPOSE]), ensure_ascii=True)


def provider_key(provider: str) -> str:
    return provider_key_path(settings.EXCHANGE_PROVIDER_KEYS_DIR, provider).read_text().strip()


def gateway_headers(provider: str = POPULATION, **extra: str) -> dict[str, str]:
    """What the provider gateway adds to a call of one of ``provider``'s services."""
    headers = {
        "HTTP_X_EGOV_GATEWAY_KEY": provider_key(provider),
        "HTTP_X_ROAD_CLIENT": CLIENT,
        "HTTP_X_ROAD_SERVICE": "BY/GOV/MVD/population/person",
        "HTTP_X_ROAD_ID": "6f1c2a34-0d7e-4c55-9d43-1b2a3c4d5e6f",
        "HTTP_X_ROAD_REQUEST_ID": REQUEST_ID,
        "HTTP_X_ROAD_USERID": "BY-STAFF-17",
        "HTTP_X_ROAD_ISSUE": "MVD-2026-000123",
        "HTTP_X_EGOV_PURPOSES": purposes_header(),
    }
    headers.update(extra)
    return headers


@pytest.fixture(autouse=True)
def provider_keys(settings, tmp_path: Path) -> Iterator[dict[str, str]]:  # type: ignore[no-untyped-def]
    """A key of its own for each register's provider subsystem, as ``egov exchange setup``
    writes them."""
    directory = tmp_path / "provider-keys"
    directory.mkdir()
    keys = {}
    for provider in (POPULATION, LEGAL_ENTITIES, ADDRESSES):
        key = f"key-of-{provider.rsplit('/', 1)[1]}-" + "k" * 32
        provider_key_path(directory, provider).write_text(key + "\n")
        keys[provider] = key
    settings.EXCHANGE_PROVIDER_KEYS_DIR = directory
    yield keys


@pytest.fixture
def headers() -> dict[str, str]:
    return gateway_headers()


@pytest.fixture
def demo_people(db: Any) -> None:
    from egov.registries.population.demo import demo_people_ensure

    demo_people_ensure()
