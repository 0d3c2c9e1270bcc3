"""The exchange fails closed: each way a request can be illegitimate is refused before it
reaches the service, and the refusal says which in X-Road's error shape."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from egov.trust.pki import certificate_issue, certificate_revoke, load_certificate, pki_init
from tests.exchange.harness import OFFICE, PORTAL, Stack, direct, header, signed_headers

ECHO_PATH = "/r1/BY/GOV/MVD/population/echo/x"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    running = Stack(tmp_path).start()
    yield running
    running.stop()


def error_type(response) -> str:
    body = json.loads(response.data)
    assert response.headers["X-Road-Error"] == body["type"]
    return str(body["type"])


def test_unregistered_client_is_refused_by_its_own_gateway(stack: Stack) -> None:
    response = stack.call(ECHO_PATH, client="BY/GOV/NOBODY/system")

    assert response.status == 500
    assert error_type(response) == "Server.ClientProxy.UnknownMember"
    assert stack.recorder.calls == []


def test_client_registered_at_another_gateway_cannot_use_this_one(stack: Stack) -> None:
    response = stack.call(ECHO_PATH, client="BY/COM/ACME/crm")

    assert response.status == 500
    assert error_type(response) == "Server.ClientProxy.UnknownMember"
    assert stack.recorder.calls == []


def test_gateway_cannot_speak_for_a_client_of_another_member(stack: Stack) -> None:
    """GW-ROGUE is a registered gateway with valid certificates, but it does not host the
    portal: it may not send requests in the portal's name."""
    headers = signed_headers(stack, "GW-ROGUE", "GET", ECHO_PATH, {"X-Road-Client": PORTAL})

    response = direct(stack, "GW-ROGUE-tls", "GET", ECHO_PATH, headers)

    assert response.status == 500
    assert error_type(response) == "Server.ServerProxy.AccessDenied"
    assert stack.recorder.calls == []


def test_missing_access_right_is_refused_by_the_clients_gateway_before_sending(
    stack: Stack,
) -> None:
    response = stack.call(ECHO_PATH, client=OFFICE)

    assert response.status == 500
    assert error_type(response) == "Server.ServerProxy.AccessDenied"
    assert stack.recorder.calls == []
    assert stack.log_records("GW-B") == []


def test_missing_access_right_is_refused_by_the_providers_gateway_alone(stack: Stack) -> None:
    headers = signed_headers(stack, "GW-A", "GET", ECHO_PATH, {"X-Road-Client": OFFICE})

    response = direct(stack, "GW-A-tls", "GET", ECHO_PATH, headers)

    assert response.status == 500
    assert error_type(response) == "Server.ServerProxy.AccessDenied"
    assert stack.recorder.calls == []


def test_access_right_removed_centrally_takes_effect_at_the_next_refresh(stack: Stack) -> None:
    assert stack.call(ECHO_PATH).status == 200
    stack.withdraw(PORTAL, "BY/GOV/MVD/population/echo")
    stack.serial += 1
    stack.refresh()

    response = stack.call(ECHO_PATH)

    assert response.status == 500
    assert error_type(response) == "Server.ServerProxy.AccessDenied"
    assert len(stack.recorder.calls) == 1


def test_certificate_of_the_ca_but_unknown_to_the_configuration_is_refused(stack: Stack) -> None:
    headers = signed_headers(stack, "GW-A", "GET", ECHO_PATH, {"X-Road-Client": PORTAL})

    response = direct(stack, "GW-UNKNOWN-tls", "GET", ECHO_PATH, headers)

    assert response.status == 500
    assert error_type(response) == "Server.ServerProxy.SslAuthenticationFailed"
    assert stack.recorder.calls == []


def test_certificate_of_another_ca_fails_the_tls_handshake(stack: Stack, tmp_path: Path) -> None:
    import urllib3

    other = tmp_path / "other-pki"
    pki_init(directory=other)
    stranger = certificate_issue(
        directory=other,
        profile="gateway-tls",
        common_name="GW-A",
        ip_addresses=["127.0.0.1"],
        name="stranger",
    )
    stack.certs["stranger"] = stranger
    headers = signed_headers(stack, "GW-A", "GET", ECHO_PATH, {"X-Road-Client": PORTAL})

    with pytest.raises(urllib3.exceptions.HTTPError):
        direct(stack, "stranger", "GET", ECHO_PATH, headers)
    assert stack.recorder.calls == []


def test_an_expired_gateway_certificate_fails_the_tls_handshake(
    stack: Stack, tmp_path: Path
) -> None:
    """The same gateway's name and profile from the same CA, but expired: the provider's
    gateway refuses the connection itself."""
    import urllib3
    from cryptography.hazmat.primitives import serialization

    from tests.trust.pki_fixtures import expired_copy

    valid = stack.certs["GW-A-tls"]
    key, certificate = expired_copy(stack.pki, load_certificate(valid.certificate_path))
    key_path, certificate_path = tmp_path / "expired.key.pem", tmp_path / "expired.cert.pem"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    stack.certs["expired"] = dataclasses.replace(
        valid, key_path=key_path, certificate_path=certificate_path, certificate=certificate
    )
    headers = signed_headers(stack, "GW-A", "GET", ECHO_PATH, {"X-Road-Client": PORTAL})

    with pytest.raises(urllib3.exceptions.HTTPError):
        direct(stack, "expired", "GET", ECHO_PATH, headers)
    assert stack.recorder.calls == []
    assert direct(stack, "GW-A-tls", "GET", ECHO_PATH, headers).status == 200


def test_revoked_gateway_certificate_is_refused(stack: Stack) -> None:
    assert stack.call(ECHO_PATH).status == 200
    serial = stack.certs["GW-A-tls"].serial
    certificate_revoke(directory=stack.pki, serial=serial, reason="key_compromise")
    stack.revoked.append(serial)
    stack.serial += 1
    stack.refresh("GW-B")

    response = stack.call(ECHO_PATH)

    assert response.status == 500
    assert error_type(response) == "Server.ServerProxy.SslAuthenticationFailed"
    assert len(stack.recorder.calls) == 1


def test_replayed_configuration_from_before_a_revocation_is_refused(stack: Stack) -> None:
    """Revoking a certificate changes the PKI, not the central registry's serial: the
    configuration signed before the revocation must not be accepted again."""
    before = stack.envelope()
    time.sleep(1.1)  # the next configuration is generated at a later second
    serial = stack.certs["GW-A-tls"].serial
    certificate_revoke(directory=stack.pki, serial=serial, reason="key_compromise")
    stack.revoked.append(serial)
    stack.refresh("GW-B")
    assert error_type(stack.call(ECHO_PATH)) == "Server.ServerProxy.SslAuthenticationFailed"

    stack.envelope_override = before
    stack.refresh("GW-B")

    assert error_type(stack.call(ECHO_PATH)) == "Server.ServerProxy.SslAuthenticationFailed"
    assert "older than the configuration in use" in stack.gateways["GW-B"].conf.last_error
    assert stack.recorder.calls == []


def test_tampered_body_breaks_the_signature(stack: Stack) -> None:
    headers = signed_headers(
        stack,
        "GW-A",
        "POST",
        ECHO_PATH,
        {"X-Road-Client": PORTAL, "Content-Type": "application/json"},
        body=b'{"amount": 10}',
    )

    response = direct(stack, "GW-A-tls", "POST", ECHO_PATH, headers, body=b'{"amount": 99}')

    assert response.status == 500
    assert error_type(response) == "Server.ServerProxy.InvalidSignatureValue"
    assert stack.recorder.calls == []


def test_tampered_header_breaks_the_signature(stack: Stack) -> None:
    headers = signed_headers(stack, "GW-A", "GET", ECHO_PATH, {"X-Road-Client": PORTAL})
    headers["X-Road-UserId"] = "BY9999999A999PB9"

    response = direct(stack, "GW-A-tls", "GET", ECHO_PATH, headers)

    assert error_type(response) == "Server.ServerProxy.InvalidSignatureValue"
    assert stack.recorder.calls == []


def test_signature_by_another_gateways_key_is_refused(stack: Stack) -> None:
    headers = signed_headers(stack, "GW-ROGUE", "GET", ECHO_PATH, {"X-Road-Client": PORTAL})

    response = direct(stack, "GW-A-tls", "GET", ECHO_PATH, headers)

    assert error_type(response) == "Server.ServerProxy.InvalidSignatureValue"


def test_replayed_message_is_refused(stack: Stack) -> None:
    headers = signed_headers(stack, "GW-A", "GET", ECHO_PATH, {"X-Road-Client": PORTAL})

    first = direct(stack, "GW-A-tls", "GET", ECHO_PATH, headers)
    replay = direct(stack, "GW-A-tls", "GET", ECHO_PATH, headers)

    assert first.status == 200
    assert replay.status == 500
    assert error_type(replay) == "Server.ServerProxy.DuplicateMessageId"
    assert len(stack.recorder.calls) == 1


def test_client_retrying_with_the_same_message_id_is_served_again(stack: Stack) -> None:
    """PR-REST: X-Road-Id is the client's; the replay protection between gateways is by the
    request id the client's gateway generates, so a retry is never a server error."""
    message = {"X-Road-Id": "5ea48ae9-15c1-465a-be15-9b6ef2c7ef4a"}

    first = stack.call(ECHO_PATH, headers=message)
    second = stack.call(ECHO_PATH, headers=message)

    assert (first.status, second.status) == (200, 200)
    assert [header(call["headers"], "x-road-id") for call in stack.recorder.calls] == [
        message["X-Road-Id"],
        message["X-Road-Id"],
    ]
    assert second.headers["X-Road-Request-Id"] != first.headers["X-Road-Request-Id"]


def test_signed_request_without_a_request_id_is_refused(stack: Stack) -> None:
    headers = signed_headers(
        stack, "GW-A", "GET", ECHO_PATH, {"X-Road-Client": PORTAL}, omit=("X-Road-Request-Id",)
    )

    response = direct(stack, "GW-A-tls", "GET", ECHO_PATH, headers)

    assert error_type(response) == "Server.ServerProxy.InvalidMessage"
    assert stack.recorder.calls == []


def test_old_message_is_refused(stack: Stack) -> None:
    headers = signed_headers(
        stack,
        "GW-A",
        "GET",
        ECHO_PATH,
        {"X-Road-Client": PORTAL, "X-Egov-Time": str(int(time.time()) - 3600)},
    )

    response = direct(stack, "GW-A-tls", "GET", ECHO_PATH, headers)

    assert error_type(response) == "Server.ServerProxy.InvalidMessage"
    assert stack.recorder.calls == []


def test_oversized_request_is_refused(stack: Stack) -> None:
    response = stack.call(
        ECHO_PATH,
        method="POST",
        body=b"x" * (64 * 1024 + 1),
        headers={"Content-Type": "application/octet-stream"},
    )

    assert response.status == 400
    assert error_type(response) == "Client.RequestTooLarge"
    assert stack.recorder.calls == []


def test_oversized_chunked_request_is_refused(stack: Stack) -> None:
    def chunks():
        for _ in range(20):
            yield b"y" * 8192

    response = stack.call(ECHO_PATH, method="POST", body=chunks(), chunked=True)

    assert response.status == 400
    assert error_type(response) == "Client.RequestTooLarge"
    assert stack.recorder.calls == []


def test_malformed_request_to_the_provider_side_is_refused(stack: Stack) -> None:
    headers = signed_headers(stack, "GW-A", "GET", "/r1/nonsense", {"X-Road-Client": PORTAL})

    response = direct(stack, "GW-A-tls", "GET", "/r1/nonsense", headers)

    assert response.status == 400
    assert error_type(response) == "Client.BadRequest"


def test_gateway_keeps_working_from_its_cache_while_the_central_registry_is_down(
    stack: Stack,
) -> None:
    stack.central_up = False
    stack.refresh()
    for gateway in list(stack.gateways.values()):
        gateway.conf.current = None  # a restart: only the cache file is left
        gateway.conf.load_cache()

    response = stack.call(ECHO_PATH)

    assert response.status == 200
    assert "503" in stack.gateways["GW-A"].conf.last_error


def test_expired_global_configuration_fails_closed(stack: Stack) -> None:
    stack.validity = timedelta(seconds=2)
    stack.serial += 1
    stack.refresh()
    assert stack.call(ECHO_PATH).status == 200
    stack.central_up = False
    time.sleep(2.1)
    stack.refresh()

    response = stack.call(ECHO_PATH)

    assert response.status == 500
    assert error_type(response) == "Server.ClientProxy.OutdatedGlobalConf"
    assert len(stack.recorder.calls) == 1


def test_provider_with_expired_configuration_refuses_too(stack: Stack) -> None:
    headers = signed_headers(stack, "GW-A", "GET", ECHO_PATH, {"X-Road-Client": PORTAL})
    stack.gateways["GW-B"].conf.current = None

    response = direct(stack, "GW-A-tls", "GET", ECHO_PATH, headers)

    assert error_type(response) == "Server.ServerProxy.OutdatedGlobalConf"
    assert stack.recorder.calls == []


def test_forged_global_configuration_is_not_installed(stack: Stack) -> None:
    genuine = stack.envelope()
    forged_content = stack.content()
    forged_content["access_rights"].append(
        {"client": OFFICE, "service": "BY/GOV/MVD/population/echo"}
    )
    forged_content["serial"] = stack.serial + 10
    import base64

    from egov.exchange.globalconf import globalconf_content_bytes

    stack.envelope_override = {
        **genuine,
        "content": base64.b64encode(globalconf_content_bytes(forged_content)).decode(),
    }
    stack.refresh()

    response = stack.call(ECHO_PATH, client=OFFICE)

    assert error_type(response) == "Server.ServerProxy.AccessDenied"
    assert stack.gateways["GW-A"].conf.current is not None
    assert stack.gateways["GW-A"].conf.current.serial == stack.serial
    assert "signature" in stack.gateways["GW-A"].conf.last_error


def test_older_global_configuration_does_not_replace_a_newer_one(stack: Stack) -> None:
    stack.serial = 5
    stack.refresh()
    stack.serial = 4
    stack.rights.append((OFFICE, "BY/GOV/MVD/population/echo"))
    stack.refresh()

    assert stack.gateways["GW-B"].conf.current.serial == 5
    assert error_type(stack.call(ECHO_PATH, client=OFFICE)) == "Server.ServerProxy.AccessDenied"
