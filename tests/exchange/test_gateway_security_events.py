"""Every call a gateway refuses is a security event on ``egov.security`` with identifiers
only (type, client, service, message id); failures of the exchange are warnings."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.exchange.harness import ECHO, OFFICE, PERSON, PORTAL, Stack, direct, signed_headers
from tests.ports import free_port

PERSONAL_NUMBER = "4150592M012PB5"
PERSON_PATH = f"/r1/BY/GOV/MVD/population/person/{PERSONAL_NUMBER}"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    running = Stack(tmp_path).start()
    yield running
    running.stop()


def events(stream: io.StringIO, name: str) -> list[dict]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    return [line for line in lines if line["event"] == name]


def test_refusal_on_the_client_side_is_a_security_event_without_personal_data(
    stack: Stack, json_logs: io.StringIO
) -> None:
    response = stack.call(
        PERSON_PATH,
        certificate="office-is",
        headers={
            "X-Road-Id": "m-17",
            "X-Road-UserId": f"BY{PERSONAL_NUMBER}",
            "X-Road-Issue": "MVD-2026-000123",
        },
    )

    detail = json.loads(response.data)["detail"]
    assert events(json_logs, "exchange_call_refused") == [
        {
            "event": "exchange_call_refused",
            "side": "client",
            "gateway": "GW-A",
            "error_type": "Server.ClientProxy.SslAuthenticationFailed",
            "message_id": "m-17",
            "detail": detail,
            "client": PORTAL,
            "service": PERSON,
            "logger": "egov.security",
            "level": "warning",
            "timestamp": events(json_logs, "exchange_call_refused")[0]["timestamp"],
        }
    ]
    assert PERSONAL_NUMBER not in json_logs.getvalue()
    assert "MVD-2026-000123" not in json_logs.getvalue()


def test_invalid_purpose_is_a_security_event_that_does_not_repeat_the_purpose(
    stack: Stack, json_logs: io.StringIO
) -> None:
    stack.call(PERSON_PATH, headers={"X-Egov-Purpose": f"curious-about-{PERSONAL_NUMBER}"})

    (event,) = events(json_logs, "exchange_call_refused")
    assert (event["error_type"], event["client"], event["service"]) == (
        "Client.InvalidPurpose",
        PORTAL,
        PERSON,
    )
    assert PERSONAL_NUMBER not in json_logs.getvalue()


def test_refusal_on_the_provider_side_names_the_calling_gateway(
    stack: Stack, json_logs: io.StringIO
) -> None:
    path = "/r1/BY/GOV/MVD/population/echo/x"
    headers = signed_headers(
        stack, "GW-A", "GET", path, {"X-Road-Client": OFFICE, "X-Road-Id": "m-18"}
    )

    direct(stack, "GW-A-tls", "GET", path, headers)

    (event,) = events(json_logs, "exchange_call_refused")
    assert {key: event[key] for key in ("side", "gateway", "caller_gateway", "error_type")} == {
        "side": "provider",
        "gateway": "GW-B",
        "caller_gateway": "GW-A",
        "error_type": "Server.ServerProxy.AccessDenied",
    }
    assert (event["client"], event["service"], event["message_id"]) == (OFFICE, ECHO, "m-18")


def test_unparseable_request_is_logged_without_what_it_claimed(
    stack: Stack, json_logs: io.StringIO
) -> None:
    stack.call("/r1/BY/GOV/MVD/population/echo/x", client=f"BY/GOV/{PERSONAL_NUMBER}_/x")

    (event,) = events(json_logs, "exchange_call_refused")
    assert event["error_type"] == "Client.InvalidClientIdentifier"
    assert "client" not in event
    assert PERSONAL_NUMBER not in json_logs.getvalue()


def test_failure_of_the_exchange_is_a_warning_not_a_security_event(
    stack: Stack, json_logs: io.StringIO
) -> None:
    response = stack.call("/r1/BY/GOV/MVD/population/echo/slow")

    assert json.loads(response.data)["type"] == "Server.ServerProxy.ServiceFailed"
    assert events(json_logs, "exchange_call_refused") == []
    (failed,) = events(json_logs, "exchange_call_failed")
    assert (failed["logger"], failed["level"], failed["side"], failed["gateway"]) == (
        "egov.exchange.gateway.errors",
        "warning",
        "provider",
        "GW-B",
    )


def test_unreachable_service_names_only_the_service_and_its_address_stays_in_the_log(
    stack: Stack, json_logs: io.StringIO
) -> None:
    port = free_port()
    stack.gateways["GW-B"].settings.services[ECHO] = f"http://127.0.0.1:{port}/echo"

    response = stack.call("/r1/BY/GOV/MVD/population/echo/x")

    body = json.loads(response.data)
    assert (response.status, body["type"], body["message"]) == (
        500,
        "Server.ServerProxy.NetworkError",
        f"service {ECHO} cannot be reached",
    )
    assert str(port) not in response.data.decode()
    (failed,) = events(json_logs, "exchange_service_failed")
    assert (failed["gateway"], failed["service"], failed["detail"]) == (
        "GW-B",
        ECHO,
        body["detail"],
    )
    assert (failed["host"], failed["port"]) == ("127.0.0.1", port)
    assert failed["error_class"] == "ClientConnectorError"


def test_service_that_does_not_answer_in_time_names_only_the_service(
    stack: Stack, json_logs: io.StringIO
) -> None:
    response = stack.call("/r1/BY/GOV/MVD/population/echo/slow")

    body = json.loads(response.data)
    assert (response.status, body["type"], body["message"]) == (
        500,
        "Server.ServerProxy.ServiceFailed",
        f"service {ECHO} did not answer in time",
    )
    (failed,) = events(json_logs, "exchange_service_failed")
    assert (failed["service"], failed["detail"]) == (ECHO, body["detail"])
