"""Conformance with PR-REST, PR-MREST and PR-META beyond the basics: listClients in XML,
members as clients, encoded slashes as data, X-Road-Id on every error, getOpenAPI's
parameter, retries with the same message id."""

from __future__ import annotations

import json
import uuid
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.exchange.harness import (
    ECHO,
    MEMBER,
    OFFICE,
    PORTAL,
    Stack,
    direct,
    header,
    signed_headers,
)

ECHO_PATH = "/r1/BY/GOV/MVD/population/echo/x"
IDENTIFIERS = "{http://x-road.eu/xsd/identifiers}"
XROAD = "{http://x-road.eu/xsd/xroad.xsd}"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    running = Stack(tmp_path).start()
    yield running
    running.stop()


def parse_xml(data: bytes) -> ElementTree.Element:
    """The gateway's own answer, from loopback in a test."""
    return ElementTree.fromstring(data)  # noqa: S314


def xroad_error(response) -> dict:
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    body = json.loads(response.data)
    assert set(body) == {"type", "message", "detail"}
    assert response.headers["X-Road-Error"] == body["type"]
    return body


def test_list_clients_answers_x_road_xml_by_default(stack: Stack) -> None:
    response = stack.call("/listClients", client=None)

    assert response.status == 200
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    root = parse_xml(response.data)
    assert root.tag == f"{XROAD}clientList"
    listed = []
    for member in root.findall(f"{XROAD}member"):
        identifier = member.find(f"{XROAD}id")
        assert identifier is not None
        listed.append(
            (
                identifier.get(f"{IDENTIFIERS}objectType"),
                tuple(child.tag.removeprefix(IDENTIFIERS) for child in identifier),
                "/".join(child.text or "" for child in identifier),
                member.findtext(f"{XROAD}name"),
            )
        )
    assert (
        "MEMBER",
        ("xRoadInstance", "memberClass", "memberCode"),
        "BY/GOV/MVD",
        "Ministry of Internal Affairs",
    ) in listed
    assert (
        "SUBSYSTEM",
        ("xRoadInstance", "memberClass", "memberCode", "subsystemCode"),
        "BY/GOV/MVD/population",
        "Ministry of Internal Affairs",
    ) in listed
    assert len(listed) == 4 + 7


def test_list_clients_xml_escapes_names(stack: Stack) -> None:
    stack.member_names = {"BY/COM/ACME": 'Acme <"&"> Ltd'}
    stack.serial += 1
    stack.refresh("GW-A")

    root = parse_xml(stack.call("/listClients", client=None).data)

    names = [member.findtext(f"{XROAD}name") for member in root.findall(f"{XROAD}member")]
    assert names.count('Acme <"&"> Ltd') == 2


@pytest.mark.parametrize(("instance", "count"), [("BY", 11), ("EE", 0)])
def test_list_clients_honours_the_instance_parameter(
    stack: Stack, instance: str, count: int
) -> None:
    as_json = stack.call(
        f"/listClients?xRoadInstance={instance}",
        client=None,
        headers={"Accept": "application/json"},
    )
    as_xml = stack.call(f"/listClients?xRoadInstance={instance}", client=None)

    assert len(json.loads(as_json.data)["member"]) == count
    assert len(parse_xml(as_xml.data).findall(f"{XROAD}member")) == count


def test_member_without_a_subsystem_is_a_client(stack: Stack) -> None:
    response = stack.call(ECHO_PATH, client=MEMBER)

    assert response.status == 200
    assert response.headers["X-Road-Client"] == MEMBER
    (call,) = stack.recorder.calls
    assert header(call["headers"], "x-road-client") == MEMBER
    assert stack.log_records("GW-B")[0]["client"] == MEMBER


def test_member_not_registered_as_a_client_is_unknown(stack: Stack) -> None:
    response = stack.call(ECHO_PATH, client="BY/GOV/MVD")

    assert response.status == 500
    assert xroad_error(response)["type"] == "Server.ClientProxy.UnknownMember"
    assert stack.recorder.calls == []


def test_member_client_needs_its_own_right(stack: Stack) -> None:
    response = stack.call("/r1/BY/GOV/MVD/population/person/4150592M012PB5", client=MEMBER)

    assert xroad_error(response)["type"] == "Server.ServerProxy.AccessDenied"
    assert stack.recorder.calls == []


def test_encoded_slash_in_a_segment_is_data_passed_on_encoded(stack: Stack) -> None:
    response = stack.call("/r1/BY/GOV/MVD/population/echo/files/a%2Fb/c%2F?x=%2F")

    assert response.status == 200
    assert [call["path"] for call in stack.recorder.calls] == ["/echo/files/a%2Fb/c%2F?x=%2F"]


@pytest.mark.parametrize(
    "path",
    [
        "/r1/BY/GOV/MVD/population/echo/a%2F..%2Fadmin",
        "/r1/BY/GOV/MVD/population/echo/..%2Fadmin",
        "/r1/BY/GOV/MVD/population/echo/%2E%2E%2F%2E%2E",
        "/r1/BY/GOV/MVD/population/echo/a%2F.",
    ],
)
def test_encoded_slash_never_lets_dot_dot_climb(stack: Stack, path: str) -> None:
    response = stack.call(path)

    assert response.status == 400
    assert xroad_error(response)["type"] == "Client.BadRequest"
    assert stack.recorder.calls == []


def test_errors_carry_the_clients_message_id(stack: Stack) -> None:
    message_id = "ab1c-retry-7"

    bad_request = stack.call("/r1/BY/GOV", headers={"X-Road-Id": message_id})
    unknown = stack.call(ECHO_PATH, client="BY/GOV/NOBODY/x", headers={"X-Road-Id": message_id})
    refused = stack.call(ECHO_PATH, client=OFFICE, headers={"X-Road-Id": message_id})
    stack.withdraw(PORTAL, ECHO)
    stack.serial += 1
    stack.refresh("GW-B")
    by_provider = stack.call(ECHO_PATH, headers={"X-Road-Id": message_id})

    for response, error_type in (
        (bad_request, "Client.BadRequest"),
        (unknown, "Server.ClientProxy.UnknownMember"),
        (refused, "Server.ServerProxy.AccessDenied"),
        (by_provider, "Server.ServerProxy.AccessDenied"),
    ):
        assert xroad_error(response)["type"] == error_type
        assert response.headers["X-Road-Id"] == message_id
    assert stack.log_records("GW-B") == []


def test_errors_carry_a_generated_message_id_when_the_client_sent_none(stack: Stack) -> None:
    response = stack.call(ECHO_PATH, client="BY/GOV/NOBODY/x")

    assert xroad_error(response)["type"] == "Server.ClientProxy.UnknownMember"
    assert uuid.UUID(response.headers["X-Road-Id"]).version == 4


@pytest.mark.parametrize("message_id", ["x" * 256, "tab\there"])
def test_message_id_that_cannot_be_returned_is_a_bad_request(stack: Stack, message_id: str) -> None:
    response = stack.call(ECHO_PATH, headers={"X-Road-Id": message_id})

    assert response.status == 400
    assert xroad_error(response)["type"] == "Client.BadRequest"
    assert uuid.UUID(response.headers["X-Road-Id"]).version == 4
    assert stack.recorder.calls == []


def test_provider_side_errors_carry_the_message_id_in_x_road_json(stack: Stack) -> None:
    headers = signed_headers(
        stack, "GW-A", "GET", ECHO_PATH, {"X-Road-Client": OFFICE, "X-Road-Id": "m-1"}
    )

    response = direct(stack, "GW-A-tls", "GET", ECHO_PATH, headers)

    assert response.status == 500
    assert xroad_error(response)["type"] == "Server.ServerProxy.AccessDenied"
    assert response.headers["X-Road-Id"] == "m-1"


def test_get_openapi_without_service_code_is_a_client_error(stack: Stack) -> None:
    response = stack.call("/r1/BY/GOV/MVD/population/getOpenAPI")
    path = "/r1/BY/GOV/MVD/population/getOpenAPI"
    headers = signed_headers(stack, "GW-A", "GET", path, {"X-Road-Client": PORTAL})
    crafted = direct(stack, "GW-A-tls", "GET", path, headers)

    assert response.status == 400
    assert xroad_error(response)["type"] == "Client.BadRequest"
    assert crafted.status == 400
    assert xroad_error(crafted)["type"] == "Client.BadRequest"
    assert stack.log_records("GW-B") == []


def test_retry_with_the_same_message_id_after_a_refusal_is_served(stack: Stack) -> None:
    """The first attempt is refused by the provider (its configuration is newer); the
    retry, with the same X-Road-Id, once the right is back, succeeds."""
    message = {"X-Road-Id": "retry-me"}
    stack.withdraw(PORTAL, ECHO)
    stack.serial += 1
    stack.refresh("GW-B")
    first = stack.call(ECHO_PATH, headers=message)
    stack.grant(PORTAL, ECHO)
    stack.serial += 1
    stack.refresh()

    second = stack.call(ECHO_PATH, headers=message)

    assert xroad_error(first)["type"] == "Server.ServerProxy.AccessDenied"
    assert second.status == 200
    assert second.headers["X-Road-Id"] == "retry-me"
    assert [header(call["headers"], "x-road-id") for call in stack.recorder.calls] == ["retry-me"]
