"""Purposes belong to access rights (ADR 0008), checked by both gateways independently: a
client may narrow the purpose to one of its right's codes; the service is told the purposes
in effect by the provider's gateway, never by the client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.exchange.harness import (
    CHECK,
    OFFICE,
    PERSON,
    PORTAL,
    PREFILL,
    Stack,
    direct,
    header,
    header_values,
    signed_headers,
)

PERSON_PATH = "/r1/BY/GOV/MVD/population/person/4150592M012PB5"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    running = Stack(tmp_path).start()
    yield running
    running.stop()


def refusal(response) -> tuple[int, str, str]:
    body = json.loads(response.data)
    assert response.headers["X-Road-Error"] == body["type"]
    return response.status, body["type"], body["message"]


def purposes_received(stack: Stack) -> list[dict]:
    (call,) = stack.recorder.calls
    value = header(call["headers"], "x-egov-purposes")
    assert value.isascii()
    return json.loads(value)


def test_unchanged_x_road_client_reads_personal_data_under_the_rights_purposes(
    stack: Stack,
) -> None:
    """No X-Road-UserId, no X-Egov-Purpose: the right's declared purposes apply."""
    response = stack.call(PERSON_PATH)

    assert response.status == 200
    assert purposes_received(stack) == [PREFILL, CHECK]
    assert header_values(stack.recorder.calls[0]["headers"], "x-egov-purpose") == []
    assert [row["purposes"] for row in stack.log_records("GW-A")] == [["prefill", "check"]]
    assert [row["purposes"] for row in stack.log_records("GW-B")] == [["prefill", "check"]]
    assert stack.log_records("GW-B")[0]["user_id"] == ""


def test_a_purpose_code_of_the_right_narrows_the_purposes(stack: Stack) -> None:
    response = stack.call(
        PERSON_PATH, headers={"X-Egov-Purpose": "check", "X-Road-UserId": "BY4150592M012PB5"}
    )

    assert response.status == 200
    assert purposes_received(stack) == [CHECK]
    assert [row["purposes"] for row in stack.log_records("GW-A", "response")] == [["check"]]
    provider_request = stack.log_records("GW-B")[0]
    assert provider_request["purposes"] == ["check"]
    assert provider_request["user_id"] == "BY4150592M012PB5"


@pytest.mark.parametrize("purpose", ["demo:lookup", "check:MVD-2026-000123", "", "training"])
def test_a_purpose_outside_the_right_is_refused_by_the_clients_gateway(
    stack: Stack, purpose: str
) -> None:
    response = stack.call(PERSON_PATH, headers={"X-Egov-Purpose": purpose})

    status, error_type, message = refusal(response)
    assert (status, error_type) == (400, "Client.InvalidPurpose")
    assert message == (
        f"{purpose!r} is not a purpose of the right of {PORTAL} to use {PERSON} "
        "(its purposes: prefill, check)"
    )
    assert stack.recorder.calls == []
    assert stack.log_records("GW-B") == []


def test_a_purpose_of_another_clients_right_is_refused(stack: Stack) -> None:
    """The back office's right to the person service declares only ``check``."""
    response = stack.call(PERSON_PATH, client=OFFICE, headers={"X-Egov-Purpose": "prefill"})

    assert refusal(response)[:2] == (400, "Client.InvalidPurpose")
    assert stack.recorder.calls == []


def test_a_purpose_outside_the_right_is_refused_by_the_providers_gateway_alone(
    stack: Stack,
) -> None:
    """A client's gateway that skipped its check: the provider's refuses on its own."""
    headers = signed_headers(
        stack, "GW-A", "GET", PERSON_PATH, {"X-Road-Client": PORTAL, "X-Egov-Purpose": "anything"}
    )

    response = direct(stack, "GW-A-tls", "GET", PERSON_PATH, headers)

    assert refusal(response)[:2] == (400, "Client.InvalidPurpose")
    assert stack.recorder.calls == []
    assert stack.log_records("GW-B") == []


def test_purpose_headers_of_the_client_never_reach_the_service(stack: Stack) -> None:
    forged = json.dumps([{"code": "anything", "text": {"en": "whatever I like"}}])

    through_gateway = stack.call(PERSON_PATH, headers={"X-Egov-Purposes": forged})
    assert through_gateway.status == 200
    # Exactly one value of each, the gateway's: the client's is not passed alongside.
    assert purposes_received(stack) == [PREFILL, CHECK]
    assert header_values(stack.recorder.calls[0]["headers"], "x-road-client") == [PORTAL]
    stack.recorder.calls.clear()
    headers = signed_headers(
        stack,
        "GW-A",
        "GET",
        PERSON_PATH,
        {"X-Road-Client": PORTAL, "X-Egov-Purposes": forged, "X-Egov-Purpose": "prefill"},
    )
    crafted = direct(stack, "GW-A-tls", "GET", PERSON_PATH, headers)

    assert crafted.status == 200
    assert purposes_received(stack) == [PREFILL]
    received = stack.recorder.calls[0]["headers"]
    assert header_values(received, "x-egov-purpose") == []
    assert header_values(received, "x-road-client") == [PORTAL]
    assert header_values(received, "x-egov-gateway-key") == ["population-key-for-tests"]


def test_personal_data_service_under_a_right_without_purposes_is_refused(stack: Stack) -> None:
    stack.withdraw(OFFICE, PERSON)
    stack.grant(OFFICE, PERSON)
    stack.serial += 1
    stack.refresh()

    by_gateway = stack.call(PERSON_PATH, client=OFFICE)
    headers = signed_headers(stack, "GW-A", "GET", PERSON_PATH, {"X-Road-Client": OFFICE})
    crafted = direct(stack, "GW-A-tls", "GET", PERSON_PATH, headers)

    expected = (
        500,
        "Server.ServerProxy.AccessDenied",
        f"the right of {OFFICE} to use {PERSON} declares no purpose, which a personal-data "
        "service needs",
    )
    assert refusal(by_gateway) == expected
    assert refusal(crafted) == expected
    assert stack.recorder.calls == []
    assert stack.log_records("GW-B") == []


def test_service_without_personal_data_gets_an_empty_list_of_purposes(stack: Stack) -> None:
    response = stack.call("/r1/BY/GOV/MVD/population/echo/x")

    assert response.status == 200
    assert purposes_received(stack) == []
