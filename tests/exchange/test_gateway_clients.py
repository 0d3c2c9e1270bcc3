"""Information systems are authenticated on the client side by their connection type
(X-Road's IS authentication): HTTP, HTTPS_NO_AUTH, or HTTPS with a registered certificate."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.exchange.harness import KIOSK, OFFICE, PORTAL, TRAINING, Stack, header

ECHO_PATH = "/r1/BY/GOV/MVD/population/echo/x"
LIST_METHODS = "/r1/BY/GOV/MVD/population/listMethods"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    running = Stack(tmp_path).start()
    yield running
    running.stop()


def refusal(response) -> tuple[int, str, str]:
    body = json.loads(response.data)
    assert response.headers["X-Road-Error"] == body["type"]
    return response.status, body["type"], body["message"]


def provider_requests(stack: Stack) -> list[dict]:
    """Requests the provider's gateway logged: a refusal on the client side sends none."""
    return stack.log_records("GW-B")


def test_portal_certificate_speaks_for_the_portal(stack: Stack) -> None:
    response = stack.call(ECHO_PATH, client=PORTAL, certificate="portal-is")

    assert response.status == 200
    assert header(json.loads(response.data)["received"]["headers"], "x-road-client") == PORTAL


def test_back_office_certificate_claiming_the_portal_is_refused(stack: Stack) -> None:
    response = stack.call(ECHO_PATH, client=PORTAL, certificate="office-is")

    assert refusal(response) == (
        500,
        "Server.ClientProxy.SslAuthenticationFailed",
        f"Client ({PORTAL}) TLS certificate does not match any IS certificates",
    )
    assert stack.recorder.calls == []
    assert provider_requests(stack) == []


def test_certificate_registered_for_nobody_is_refused(stack: Stack) -> None:
    response = stack.call(ECHO_PATH, client=PORTAL, certificate="stranger-is")

    assert refusal(response)[1] == "Server.ClientProxy.SslAuthenticationFailed"
    assert stack.recorder.calls == []


def test_https_client_over_plain_http_is_refused(stack: Stack) -> None:
    response = stack.call(ECHO_PATH, client=PORTAL, tls=False)

    assert refusal(response) == (
        500,
        "Server.ClientProxy.SslAuthenticationFailed",
        f"Client ({PORTAL}) specifies HTTPS but did not supply TLS certificate",
    )
    assert stack.recorder.calls == []


def test_https_client_over_tls_without_a_certificate_is_refused(stack: Stack) -> None:
    response = stack.call(ECHO_PATH, client=PORTAL, certificate=None, tls=True)

    assert refusal(response)[2] == (
        f"Client ({PORTAL}) specifies HTTPS but did not supply TLS certificate"
    )
    assert stack.recorder.calls == []


def test_revoked_information_system_certificate_is_refused(stack: Stack) -> None:
    assert stack.call(ECHO_PATH, client=PORTAL).status == 200
    stack.revoked.append(stack.certs["portal-is"].serial)
    stack.serial += 1
    stack.refresh()

    response = stack.call(ECHO_PATH, client=PORTAL)

    assert refusal(response) == (
        500,
        "Server.ClientProxy.SslAuthenticationFailed",
        f"Client ({PORTAL}) TLS certificate is revoked",
    )
    assert len(stack.recorder.calls) == 1


def test_client_without_registered_certificates_over_https_is_refused(stack: Stack) -> None:
    stack.client_certificates[OFFICE] = []
    stack.serial += 1
    stack.refresh()

    response = stack.call(ECHO_PATH, client=OFFICE, certificate="office-is")

    assert refusal(response)[2] == f"Client ({OFFICE}) has no IS certificates"


def test_missing_connection_type_means_https(stack: Stack) -> None:
    del stack.connection_types[TRAINING]
    stack.serial += 1
    stack.refresh()

    response = stack.call(ECHO_PATH, client=TRAINING, tls=False)

    assert refusal(response)[2] == (
        f"Client ({TRAINING}) specifies HTTPS but did not supply TLS certificate"
    )
    assert stack.recorder.calls == []


def test_http_client_is_accepted_over_plain_http_and_over_tls(stack: Stack) -> None:
    plain = stack.call(ECHO_PATH, client=TRAINING, tls=False)
    over_tls = stack.call(ECHO_PATH, client=TRAINING, certificate=None, tls=True)

    assert (plain.status, over_tls.status) == (200, 200)
    assert [header(call["headers"], "x-road-client") for call in stack.recorder.calls] == [
        TRAINING,
        TRAINING,
    ]


def test_https_no_auth_client_needs_tls_but_no_certificate(stack: Stack) -> None:
    plain = stack.call(ECHO_PATH, client=KIOSK, tls=False)
    over_tls = stack.call(ECHO_PATH, client=KIOSK, certificate=None, tls=True)

    assert refusal(plain) == (
        500,
        "Server.ClientProxy.SslAuthenticationFailed",
        f"Client ({KIOSK}) specifies HTTPS NO AUTH but client made plaintext connection",
    )
    assert over_tls.status == 200
    assert len(stack.recorder.calls) == 1


def test_the_last_x_road_client_header_counts_and_must_match_the_certificate(
    stack: Stack,
) -> None:
    """PR-REST: with several X-Road-Client headers the last one names the client."""
    import urllib3

    claims_portal_last = urllib3.HTTPHeaderDict()
    claims_portal_last.add("X-Road-Client", OFFICE)
    claims_portal_last.add("X-Road-Client", PORTAL)
    claims_office_last = urllib3.HTTPHeaderDict()
    claims_office_last.add("X-Road-Client", PORTAL)
    claims_office_last.add("X-Road-Client", OFFICE)

    refused = stack.tls_pool("office-is").request(
        "GET", stack.client_tls_url + ECHO_PATH, headers=claims_portal_last
    )
    accepted = stack.tls_pool("portal-is").request(
        "GET", stack.client_tls_url + ECHO_PATH, headers=claims_portal_last
    )
    denied_as_office = stack.tls_pool("portal-is").request(
        "GET", stack.client_tls_url + ECHO_PATH, headers=claims_office_last
    )

    assert refusal(refused)[2] == (
        f"Client ({PORTAL}) TLS certificate does not match any IS certificates"
    )
    assert accepted.status == 200
    assert header(json.loads(accepted.data)["received"]["headers"], "x-road-client") == PORTAL
    assert refusal(denied_as_office)[2] == (
        f"Client ({OFFICE}) TLS certificate does not match any IS certificates"
    )
    assert len(stack.recorder.calls) == 1


def test_several_user_ids_are_a_bad_request(stack: Stack) -> None:
    import urllib3

    headers = urllib3.HTTPHeaderDict({"X-Road-Client": TRAINING})
    headers.add("X-Road-UserId", "BY4150592M012PB5")
    headers.add("X-Road-UserId", "BY3010180M001PB1")

    response = stack.http.request("GET", stack.client_url + ECHO_PATH, headers=headers)

    assert refusal(response)[:2] == (400, "Client.BadRequest")
    assert stack.recorder.calls == []


def test_metaservices_authenticate_the_client_but_list_clients_is_open(stack: Stack) -> None:
    refused = stack.call(LIST_METHODS, client=PORTAL, certificate="office-is")
    accepted = stack.call(LIST_METHODS, client=PORTAL, certificate="portal-is")
    open_list = stack.call(
        "/listClients", client=None, tls=False, headers={"Accept": "application/json"}
    )

    assert refusal(refused)[1] == "Server.ClientProxy.SslAuthenticationFailed"
    assert accepted.status == 200
    assert open_list.status == 200
    assert provider_requests(stack) == [
        row for row in provider_requests(stack) if row["service"].endswith("/listMethods")
    ]
    assert len(provider_requests(stack)) == 1
