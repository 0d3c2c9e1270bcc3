"""Each register opens only to the key of its own provider subsystem (ADR 0008): the key of
another provider, even one served by the same gateway, is refused like no key at all."""

from __future__ import annotations

import pytest

from egov.core.exchange_files import provider_key_path
from egov.registries.legal_entities.models import DataAccess as EntitiesAccess
from egov.registries.population.models import DataAccess as PopulationAccess

from .conftest import ADDRESSES, LEGAL_ENTITIES, POPULATION, gateway_headers

pytestmark = [pytest.mark.urls("egov.registries.urls"), pytest.mark.django_db]

ALENA = "4150592M012PB5"
ANDREI = "3010180A001PB8"
PERSON = f"/registries/population/v1/persons/{ALENA}"
ENTITY = "/registries/legal-entities/v1/entities/192541238"
ADDRESS_SEARCH = "/registries/addresses/v1/addresses"

CALLS = {
    POPULATION: [
        PERSON,
        f"/registries/population/v1/family/{ALENA}",
        f"/registries/population/v1/address-history/{ALENA}",
        "/registries/population/v1/events",
        f"/registries/population/v1/data-access-log/{ALENA}",
    ],
    LEGAL_ENTITIES: [
        ENTITY,
        f"/registries/legal-entities/v1/directed-by/{ANDREI}",
        "/registries/legal-entities/v1/events",
        f"/registries/legal-entities/v1/data-access-log/{ANDREI}",
    ],
    ADDRESSES: [f"{ADDRESS_SEARCH}?q=Максіма+Танка"],
}


def _nothing_recorded() -> None:
    assert not PopulationAccess.objects.exists()
    assert not EntitiesAccess.objects.exists()


@pytest.mark.parametrize("provider", [POPULATION, LEGAL_ENTITIES, ADDRESSES])
def test_each_register_answers_its_own_providers_key(client, demo_people, provider):
    for path in CALLS[provider]:
        response = client.get(path, **gateway_headers(provider))
        assert response.status_code == 200, (path, response.content)


@pytest.mark.parametrize(
    ("provider", "other"),
    [
        (POPULATION, ADDRESSES),
        (POPULATION, LEGAL_ENTITIES),
        (LEGAL_ENTITIES, POPULATION),
        (LEGAL_ENTITIES, ADDRESSES),
        (ADDRESSES, POPULATION),
        (ADDRESSES, LEGAL_ENTITIES),
    ],
)
def test_another_providers_key_opens_nothing(client, demo_people, provider, other):
    headers = gateway_headers(
        provider, HTTP_X_EGOV_GATEWAY_KEY=gateway_headers(other)["HTTP_X_EGOV_GATEWAY_KEY"]
    )
    for path in CALLS[provider]:
        response = client.get(path, HTTP_ACCEPT_LANGUAGE="en", **headers)
        assert response.status_code == 403
        assert response["Content-Type"] == "application/problem+json"
        assert response.json() == {
            "type": "https://egov.example/problems/gateway_required",
            "title": "Not allowed",
            "status": 403,
            "code": "gateway_required",
            "detail": "Registries answer only calls that come through the exchange.",
        }
    _nothing_recorded()


def test_the_addresses_key_never_opens_the_population_register(client, demo_people):
    addresses_key = gateway_headers(ADDRESSES)["HTTP_X_EGOV_GATEWAY_KEY"]
    response = client.get(PERSON, **gateway_headers(HTTP_X_EGOV_GATEWAY_KEY=addresses_key))
    assert response.status_code == 403
    assert "Каваленка" not in response.content.decode()
    _nothing_recorded()


@pytest.mark.parametrize("key", ["", "key-of-population", "key-of-population-" + "k" * 33])
def test_a_near_miss_of_the_key_is_refused(client, demo_people, key):
    response = client.get(PERSON, **gateway_headers(HTTP_X_EGOV_GATEWAY_KEY=key))
    assert response.status_code == 403
    _nothing_recorded()


def test_a_missing_key_file_refuses_every_call_until_it_is_written(
    client, demo_people, settings, tmp_path
):
    settings.EXCHANGE_PROVIDER_KEYS_DIR = tmp_path / "not-yet"
    presented = "key-written-later-" + "x" * 32
    refused = client.get(PERSON, **_headers_with(presented))
    assert refused.status_code == 403
    settings.EXCHANGE_PROVIDER_KEYS_DIR.mkdir()
    provider_key_path(settings.EXCHANGE_PROVIDER_KEYS_DIR, POPULATION).write_text(presented)
    assert client.get(PERSON, **_headers_with(presented)).status_code == 200
    assert PopulationAccess.objects.count() == 1


def test_the_key_is_read_once(client, demo_people, settings, provider_keys):
    path = provider_key_path(settings.EXCHANGE_PROVIDER_KEYS_DIR, POPULATION)
    first = provider_keys[POPULATION]
    assert client.get(PERSON, **_headers_with(first)).status_code == 200
    path.write_text("a-replaced-key-" + "r" * 32)
    assert client.get(PERSON, **_headers_with(first)).status_code == 200
    assert client.get(PERSON, **_headers_with("a-replaced-key-" + "r" * 32)).status_code == 403


def test_the_register_follows_the_provider_setting(client, demo_people, settings, provider_keys):
    settings.REGISTRY_PROVIDERS = {**settings.REGISTRY_PROVIDERS, "population": ADDRESSES}
    assert client.get(PERSON, **_headers_with(provider_keys[POPULATION])).status_code == 403
    assert client.get(PERSON, **_headers_with(provider_keys[ADDRESSES])).status_code == 200


def test_the_default_providers_are_the_demos_subsystems():
    from egov import settings as defaults

    assert defaults.REGISTRY_PROVIDERS == {
        "population": POPULATION,
        "legal_entities": LEGAL_ENTITIES,
        "addresses": ADDRESSES,
    }


def _headers_with(key: str) -> dict[str, str]:
    headers = dict(_BASE)
    headers["HTTP_X_EGOV_GATEWAY_KEY"] = key
    return headers


_BASE = {
    "HTTP_X_ROAD_CLIENT": "BY/GOV/MVD/backoffice",
    "HTTP_X_ROAD_ID": "6f1c2a34-0d7e-4c55-9d43-1b2a3c4d5e6f",
    "HTTP_X_EGOV_PURPOSES": '[{"code": "check", "text": {}, "legal_basis": {}}]',
}
