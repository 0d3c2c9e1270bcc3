"""A credential per provider (ADR 0008): each provider's services receive their own
provider's key from the gateway and no other provider's."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.exchange.harness import ADDRESSES, PORTAL, PROVIDER, Stack, header, header_values


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    running = Stack(tmp_path).start()
    yield running
    running.stop()


def test_each_provider_behind_one_gateway_receives_only_its_own_key(stack: Stack) -> None:
    population = stack.call("/r1/BY/GOV/MVD/population/echo/x")
    addresses = stack.call("/r1/BY/GOV/NKA/addresses/address/17")

    assert (population.status, addresses.status) == (200, 200)
    population_call, addresses_call = stack.recorder.calls
    assert population_call["path"] == "/echo/x"
    assert header(population_call["headers"], "x-egov-gateway-key") == "population-key-for-tests"
    assert addresses_call["path"] == "/addresses/17"
    assert header(addresses_call["headers"], "x-egov-gateway-key") == "addresses-key"
    for call, other in ((population_call, ADDRESSES), (addresses_call, PROVIDER)):
        assert stack.provider_keys[other] not in json.dumps(call["headers"])


def test_a_client_cannot_send_a_gateway_key_of_its_own(stack: Stack) -> None:
    response = stack.call(
        "/r1/BY/GOV/MVD/population/echo/x", headers={"X-Egov-Gateway-Key": "addresses-key"}
    )

    assert response.status == 200
    (call,) = stack.recorder.calls
    # Exactly one value, the gateway's: the client's is not passed alongside it.
    assert header_values(call["headers"], "x-egov-gateway-key") == ["population-key-for-tests"]
    assert header_values(call["headers"], "x-road-client") == [PORTAL]
