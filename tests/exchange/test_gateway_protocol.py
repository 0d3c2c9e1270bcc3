"""Conformance with the X-Road Message Protocol for REST (r1) and the Service Metadata Protocol
for REST, written from the protocols' text: request form, headers, metaservices, errors."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from egov.trust.pki import tls_key_password
from tests.exchange.harness import (
    ECHO,
    OFFICE,
    PORTAL,
    TRAINING,
    Stack,
    header,
    header_names,
    header_values,
    signed_headers,
)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    running = Stack(tmp_path).start()
    yield running
    running.stop()


def xroad_error(response) -> dict:
    """An error of the exchange itself: X-Road-Error header = the body's type (§4.6)."""
    assert response.headers["Content-Type"].startswith("application/json")
    body = json.loads(response.data)
    assert set(body) == {"type", "message", "detail"}
    assert response.headers["X-Road-Error"] == body["type"]
    return body


def test_get_reaches_the_service_with_path_and_query_unchanged(stack: Stack) -> None:
    response = stack.call("/r1/BY/GOV/MVD/population/echo/v1/bar/zyggy?quu=1&x=%20y")

    assert response.status == 200
    received = json.loads(response.data)["received"]
    assert received["method"] == "GET"
    assert received["path"] == "/echo/v1/bar/zyggy?quu=1&x=%20y"
    assert header(received["headers"], "x-road-client") == PORTAL
    assert header(received["headers"], "x-road-service") == ECHO
    assert header(received["headers"], "x-egov-gateway-key") == "population-key-for-tests"


def test_response_carries_the_x_road_headers(stack: Stack) -> None:
    message_id = str(uuid.uuid4())
    response = stack.call("/r1/BY/GOV/MVD/population/echo/x", headers={"X-Road-Id": message_id})

    assert response.headers["X-Road-Id"] == message_id
    assert response.headers["X-Road-Client"] == PORTAL
    assert response.headers["X-Road-Service"] == ECHO
    assert uuid.UUID(response.headers["X-Road-Request-Id"])
    assert len(base64.b64decode(response.headers["X-Road-Request-Hash"])) == 64  # SHA-512
    assert "X-Road-Error" not in response.headers
    assert "X-Egov-Signature" not in response.headers


def test_service_receives_the_request_id_the_clients_gateway_generated_and_signed(
    stack: Stack,
) -> None:
    """The registers record it as the proof of an access; a client's own never reaches them."""
    response = stack.call(
        "/r1/BY/GOV/MVD/population/echo/x", headers={"X-Road-Request-Id": "chosen-by-client"}
    )

    assert response.status == 200
    generated = response.headers["X-Road-Request-Id"]
    assert generated != "chosen-by-client"
    assert uuid.UUID(generated)
    (call,) = stack.recorder.calls
    assert header_values(call["headers"], "x-road-request-id") == [generated]
    assert [row["request_id"] for row in stack.log_records("GW-A")] == [generated]
    assert [row["request_id"] for row in stack.log_records("GW-B")] == [generated]
    assert [row["request_id"] for row in stack.log_records("GW-B", "response")] == [generated]


def test_message_id_is_generated_when_the_client_sends_none(stack: Stack) -> None:
    response = stack.call("/r1/BY/GOV/MVD/population/echo/x")

    generated = response.headers["X-Road-Id"]
    assert uuid.UUID(generated)
    assert header(json.loads(response.data)["received"]["headers"], "x-road-id") == generated


def test_user_defined_headers_body_and_content_type_pass_unchanged(stack: Stack) -> None:
    body = json.dumps({"name": "doggie", "тэкст": "беларуская"}).encode()
    response = stack.call(
        "/r1/BY/GOV/MVD/population/echo/v2/pets",
        method="POST",
        body=body,
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "X-Pingback": "https://example.com/xmlrpc.php",
            "Cache-Control": "no-cache, no-store, must-revalidate",
            "Accept": "application/xml",
            "X-Road-Issue": "MVD-2026-000123",
            "X-Road-UserId": "BY4150592M012PB5",
        },
    )

    received = json.loads(response.data)["received"]
    assert received["method"] == "POST"
    assert received["body"] == body.decode()
    assert header(received["headers"], "content-type") == "application/json; charset=utf-8"
    assert header(received["headers"], "x-pingback") == "https://example.com/xmlrpc.php"
    assert header(received["headers"], "cache-control") == "no-cache, no-store, must-revalidate"
    assert header(received["headers"], "accept") == "application/xml"
    assert header(received["headers"], "x-road-issue") == "MVD-2026-000123"
    assert header(received["headers"], "x-road-userid") == "BY4150592M012PB5"


def test_accept_defaults_to_json_and_host_user_agent_are_not_passed(stack: Stack) -> None:
    response = stack.call(
        "/r1/BY/GOV/MVD/population/echo/x",
        headers={"User-Agent": "consumer-is/1.0", "Proxy-Authorization": "Basic eA=="},
    )

    headers = json.loads(response.data)["received"]["headers"]
    assert header(headers, "accept") == "application/json"
    assert header_values(headers, "user-agent") == []
    assert header_values(headers, "proxy-authorization") == []
    assert header(headers, "host") == f"127.0.0.1:{stack.ports['service']}"


def test_identifier_parts_are_percent_decoded_one_by_one(stack: Stack) -> None:
    response = stack.call(
        "/r1/BY/GOV/MVD/popul%61tion/echo/x",
        client="BY/GOV/NCES/port%61l",
        certificate="portal-is",
    )

    assert response.status == 200
    assert response.headers["X-Road-Service"] == ECHO
    assert response.headers["X-Road-Client"] == PORTAL


def test_header_names_are_case_insensitive(stack: Stack) -> None:
    response = stack.call(
        "/r1/BY/GOV/MVD/population/echo/x",
        client=None,
        headers={"x-road-client": PORTAL},
        certificate="portal-is",
    )

    assert response.status == 200


def test_providers_own_error_passes_through_unchanged(stack: Stack) -> None:
    response = stack.call("/r1/BY/GOV/MVD/population/echo/missing")

    assert response.status == 404
    assert json.loads(response.data) == {"code": "not_found", "status": 404}
    assert "X-Road-Error" not in response.headers
    assert response.headers["X-Road-Service"] == ECHO


@pytest.mark.parametrize(
    ("path", "client", "status", "error_type"),
    [
        ("/r1/BY/GOV/MVD/population/echo", None, 400, "Client.InvalidClientIdentifier"),
        ("/r1/BY/GOV/MVD/population/echo", "BY/GOV", 400, "Client.InvalidClientIdentifier"),
        ("/r1/BY/GOV/MVD/population/echo", "BY/GOV/NC_ES", 400, "Client.InvalidClientIdentifier"),
        ("/r1/BY/GOV/MVD/population/echo", "BY/GOV/NC:ES", 400, "Client.InvalidClientIdentifier"),
        ("/r1/BY/GOV/MVD/population/echo", "BY/GOV/NC%3BES", 400, "Client.InvalidClientIdentifier"),
        # Member classes are the instance's configuration: a class the configuration does
        # not know is a client it does not know.
        (
            "/r1/BY/GOV/MVD/population/echo",
            "BY/XXX/NCES/portal",
            500,
            "Server.ClientProxy.UnknownMember",
        ),
        (
            "/r1/BY/GOV/MVD/population/echo",
            "BY/GOV/NC%FFES/portal",
            400,
            "Client.InvalidClientIdentifier",
        ),
        ("/r2/BY/GOV/MVD/population/echo", PORTAL, 400, "Client.BadRequest"),
        ("/r1/BY/GOV/MVD/population", PORTAL, 400, "Client.BadRequest"),
        ("/r1/BY%2FGOV%2FMVD%2Fpopulation%2Fecho", PORTAL, 400, "Client.BadRequest"),
        ("/r1/BY/GOV/MVD/population/echo/%2E%2E/admin", PORTAL, 400, "Client.BadRequest"),
        ("/r1/BY/GOV/MVD/population/echo/../../admin", PORTAL, 400, "Client.BadRequest"),
        ("/r1/BY/GOV/MVD/population/echo/a%2F..%2F..%2Fadmin", PORTAL, 400, "Client.BadRequest"),
        ("/r1/BY/GOV/MVD/population/echo/a%5c..", PORTAL, 400, "Client.BadRequest"),
        ("/r1/BY/GOV/MVD/population/echo/a%00b", PORTAL, 400, "Client.BadRequest"),
        ("/r1/BY/GOV/MVD/population/echo/" + "a" * 2000, PORTAL, 400, "Client.BadRequest"),
        ("/r1/BY/GOV/MVD/population/nosuch", PORTAL, 500, "Server.ClientProxy.UnknownService"),
        ("/r1/BY/GOV/MVD/nosuch/echo", PORTAL, 500, "Server.ClientProxy.UnknownService"),
    ],
)
def test_protocol_violations_are_refused_before_anything_is_sent(
    stack: Stack, path: str, client: str | None, status: int, error_type: str
) -> None:
    response = stack.call(path, client=client)

    assert response.status == status
    assert xroad_error(response)["type"] == error_type
    assert stack.recorder.calls == []


def test_list_clients_in_x_road_json_shape(stack: Stack) -> None:
    response = stack.call("/listClients", client=None, headers={"Accept": "application/json"})

    assert response.status == 200
    members = json.loads(response.data)["member"]
    assert {
        "id": {
            "member_class": "GOV",
            "member_code": "MVD",
            "object_type": "MEMBER",
            "xroad_instance": "BY",
        },
        "name": "Ministry of Internal Affairs",
    } in members
    assert {
        "id": {
            "member_class": "GOV",
            "member_code": "MVD",
            "object_type": "SUBSYSTEM",
            "subsystem_code": "population",
            "xroad_instance": "BY",
        },
        "name": "Ministry of Internal Affairs",
    } in members
    assert len(members) == 4 + 7


def test_list_methods_lists_every_service_of_the_provider(stack: Stack) -> None:
    response = stack.call("/r1/BY/GOV/MVD/population/listMethods", client=OFFICE)

    assert response.status == 200
    services = json.loads(response.data)["service"]
    assert [item["service_code"] for item in services] == ["person", "echo"]
    assert services[0] == {
        "member_class": "GOV",
        "member_code": "MVD",
        "object_type": "SERVICE",
        "service_code": "person",
        "service_type": "OPENAPI",
        "subsystem_code": "population",
        "xroad_instance": "BY",
        "endpoint_list": [{"method": "GET", "path": "/*"}],
    }


def test_allowed_methods_lists_only_what_the_client_may_call(stack: Stack) -> None:
    office = json.loads(stack.call("/r1/BY/GOV/MVD/population/allowedMethods", client=OFFICE).data)
    portal = json.loads(stack.call("/r1/BY/GOV/MVD/population/allowedMethods", client=PORTAL).data)

    assert [item["service_code"] for item in office["service"]] == ["person"]
    assert [item["service_code"] for item in portal["service"]] == ["person", "echo"]


def test_get_openapi_returns_the_service_description(stack: Stack) -> None:
    as_yaml = stack.call(
        "/r1/BY/GOV/MVD/population/getOpenAPI?serviceCode=person", headers={"Accept": "text/yaml"}
    )
    as_json = stack.call("/r1/BY/GOV/MVD/population/getOpenAPI?serviceCode=person")
    unknown = stack.call("/r1/BY/GOV/MVD/population/getOpenAPI?serviceCode=nosuch")

    assert as_yaml.status == 200
    assert as_yaml.headers["Content-Type"] == "text/yaml; charset=utf-8"
    assert (
        as_yaml.data.decode() == "openapi: 3.0.0\ninfo: {title: Person, version: '1'}\npaths: {}\n"
    )
    assert json.loads(as_json.data) == {
        "openapi": "3.0.0",
        "info": {"title": "Person", "version": "1"},
        "paths": {},
    }
    assert unknown.status == 500
    assert xroad_error(unknown)["type"] == "Server.ServerProxy.UnknownService"
    assert stack.recorder.calls == []


def test_service_that_does_not_answer_is_a_server_proxy_error(stack: Stack) -> None:
    response = stack.call("/r1/BY/GOV/MVD/population/echo/slow")

    assert response.status == 500
    assert xroad_error(response)["type"] == "Server.ServerProxy.ServiceFailed"


def test_header_names_with_underscores_are_not_passed(stack: Stack) -> None:
    """Some servers read ``X_Road_Client`` as ``X-Road-Client``: such names never cross."""
    response = stack.call(
        "/r1/BY/GOV/MVD/population/echo/x",
        headers={"X_Road_Client": "BY/GOV/EVIL/x", "X-Egov_Gateway-Key": "guess"},
    )

    headers = json.loads(response.data)["received"]["headers"]
    assert response.status == 200
    assert header(headers, "x-road-client") == PORTAL
    assert header_values(headers, "x_road_client") == []
    assert header(headers, "x-egov-gateway-key") == "population-key-for-tests"
    assert not [name for name in header_names(headers) if "_" in name]


def test_header_value_that_is_not_utf8_is_a_bad_request(stack: Stack) -> None:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", stack.ports["a-client"], timeout=10)
    connection.putrequest("GET", "/r1/BY/GOV/MVD/population/echo/x")
    connection.putheader("X-Road-Client", TRAINING)
    connection.putheader("X-Note", b"\xff\xfe")
    connection.endheaders()
    response = connection.getresponse()
    body = json.loads(response.read())
    connection.close()

    assert response.status == 400
    assert response.getheader("X-Road-Error") == body["type"] == "Client.BadRequest"
    assert stack.recorder.calls == []


def raw_call(stack: Stack, target: str) -> tuple[int, dict]:
    """GW-A's client side with ``target`` sent byte for byte (no client library's cleanup)."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", stack.ports["a-client"], timeout=10)
    connection.putrequest("GET", target, skip_accept_encoding=True)
    connection.putheader("X-Road-Client", TRAINING)
    connection.endheaders()
    response = connection.getresponse()
    body = json.loads(response.read())
    connection.close()
    assert response.getheader("X-Road-Error") == body["type"]
    return response.status, body


PATH_CHARACTERS_MESSAGE = (
    "invalid service path: the path may hold only RFC 3986 path characters (no '#', no space, "
    "'%' only before two hexadecimal digits)"
)


@pytest.mark.parametrize(
    "rest",
    ["/x#frag", "/x%23ok#frag", '/a"b', "/a<b>", "/{id}", "/a|b", "/a^b", "/a[1]", "/a%zz", "/a%4"],
)
def test_characters_outside_rfc_3986_paths_are_a_bad_request(stack: Stack, rest: str) -> None:
    status, body = raw_call(stack, f"/r1/BY/GOV/MVD/population/echo{rest}")

    assert (status, body["type"], body["message"]) == (
        400,
        "Client.BadRequest",
        PATH_CHARACTERS_MESSAGE,
    )
    assert stack.recorder.calls == []
    assert stack.log_records("GW-A") == []


def test_fragment_after_the_query_is_a_bad_request(stack: Stack) -> None:
    status, body = raw_call(stack, "/r1/BY/GOV/MVD/population/echo/x?a=1#frag")

    assert (status, body["type"], body["message"]) == (
        400,
        "Client.BadRequest",
        "the query must not hold '#' (a fragment)",
    )
    assert stack.recorder.calls == []


def test_fragment_signed_by_a_gateway_is_a_bad_request_at_the_provider(stack: Stack) -> None:
    path = "/r1/BY/GOV/MVD/population/echo/x#frag"
    headers = signed_headers(stack, "GW-A", "GET", path, {"X-Road-Client": TRAINING})

    # Byte for byte over mutual TLS (a client library would drop the fragment).
    import http.client
    import ssl

    context = ssl.create_default_context(cafile=str(stack.pki / "issuing.cert.pem"))
    context.load_verify_locations(cafile=str(stack.pki / "root.cert.pem"))
    context.check_hostname = False
    issued = stack.certs["GW-A-tls"]
    context.load_cert_chain(
        str(issued.certificate_path), str(issued.key_path), password=tls_key_password
    )
    connection = http.client.HTTPSConnection(
        "127.0.0.1", stack.ports["b-server"], timeout=10, context=context
    )
    connection.putrequest("GET", path, skip_accept_encoding=True)
    for name, value in headers.items():
        connection.putheader(name, value)
    connection.endheaders()
    response = connection.getresponse()
    body = json.loads(response.read())
    connection.close()

    assert (response.status, body["type"], body["message"]) == (
        400,
        "Client.BadRequest",
        PATH_CHARACTERS_MESSAGE,
    )
    assert stack.recorder.calls == []
    assert stack.log_records("GW-B") == []


def test_every_rfc_3986_path_character_passes(stack: Stack) -> None:
    rest = "/az-._~!$&'()*+,;=:@%20%2F"

    status = stack.call(f"/r1/BY/GOV/MVD/population/echo{rest}", client=TRAINING).status

    assert status == 200
    assert [call["path"] for call in stack.recorder.calls] == [f"/echo{rest}"]
