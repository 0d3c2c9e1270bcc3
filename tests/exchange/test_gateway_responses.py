"""The client's gateway hands over only a response the provider's gateway signed and bound
to this very request; and both gateways judge the global configuration's expiry exactly
(``now == expires_at`` is expired, one microsecond before is not)."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web

from egov.exchange.gateway import messages
from egov.exchange.globalconf import GlobalconfInvalid, globalconf_verify, parse_timestamp
from egov.trust.pki import load_private_key, tls_key_password
from tests.exchange.harness import PORTAL, Stack

ECHO_PATH = "/r1/BY/GOV/MVD/population/echo/x"
GENUINE = b'{"amount": 10}'


class FakeProviderGateway:
    """GW-B's provider side as someone holding GW-B's TLS certificate and signing key could
    play it, answering each request in the way ``mode`` says."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.mode = "genuine"
        self.key = load_private_key(stack.certs["GW-B-signing"].key_path)
        self.runner: web.AppRunner | None = None
        self.port = 0

    def tls(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        issued = self.stack.certs["GW-B-tls"]
        context.load_cert_chain(issued.certificate_path, issued.key_path, password=tls_key_password)
        context.load_verify_locations(self.stack.pki / "issuing.cert.pem")
        context.load_verify_locations(self.stack.pki / "root.cert.pem")
        context.verify_mode = ssl.CERT_REQUIRED
        return context

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = [
            (name, value)
            for name, value in request.headers.items()
            if name.lower() not in messages.INTERNAL
        ]
        request_hash = messages.message_hash(f"{request.method} {request.raw_path}", headers, body)
        if self.mode == "other-request":
            request_hash = messages.message_hash("GET /r1/BY/GOV/MVD/population/echo/y", [], b"")
        answer = [
            ("Content-Type", "application/json"),
            ("X-Road-Id", request.headers["X-Road-Id"]),
            ("X-Road-Client", request.headers["X-Road-Client"]),
            ("X-Road-Service", request.headers["X-Road-Service"]),
            ("X-Road-Request-Id", request.headers["X-Road-Request-Id"]),
            ("X-Road-Request-Hash", request_hash),
        ]
        signature = messages.sign(self.key, messages.message_hash("200", answer, GENUINE))
        sent = GENUINE
        if self.mode == "forged-body":
            sent = b'{"amount": 99}'
        if self.mode != "unsigned":
            answer.append(("X-Egov-Signature", signature))
        return web.Response(status=200, body=sent, headers=answer)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0, ssl_context=self.tls())
        await site.start()
        self.port = int(self.runner.addresses[0][1])

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    running = Stack(tmp_path).start()
    yield running
    running.stop()


@pytest.fixture
def fake(stack: Stack) -> Iterator[FakeProviderGateway]:
    """GW-A is told that GW-B now answers at the fake's address."""
    provider = FakeProviderGateway(stack)
    stack.run(provider.start())
    stack.ports["b-server"] = provider.port
    stack.serial += 1
    stack.refresh("GW-A")
    yield provider
    stack.run(provider.stop())


def test_genuine_signed_response_is_handed_over(stack: Stack, fake) -> None:
    response = stack.call(ECHO_PATH)

    assert response.status == 200
    assert response.data == GENUINE
    assert response.headers["X-Road-Client"] == PORTAL
    assert [row["signer"] for row in stack.log_records("GW-A", "response")] == ["GW-B"]


@pytest.mark.parametrize("mode", ["forged-body", "unsigned", "other-request"])
def test_response_not_signed_for_this_request_is_refused(stack: Stack, fake, mode: str) -> None:
    fake.mode = mode

    response = stack.call(ECHO_PATH, headers={"X-Road-Id": f"m-{mode}"})

    assert response.status == 500
    body = json.loads(response.data)
    assert body["type"] == response.headers["X-Road-Error"]
    assert body["type"] == "Server.ClientProxy.InvalidSignatureValue"
    assert body["message"] == "the response from GW-B is not signed by it"
    assert b"amount" not in response.data
    assert response.headers["X-Road-Id"] == f"m-{mode}"
    assert stack.log_records("GW-A", "response") == []


@pytest.mark.parametrize(
    ("gateway", "error_type"),
    [
        ("GW-A", "Server.ClientProxy.OutdatedGlobalConf"),
        ("GW-B", "Server.ServerProxy.OutdatedGlobalConf"),
    ],
)
def test_configuration_is_expired_at_the_exact_instant_of_its_expiry(
    stack: Stack, gateway: str, error_type: str
) -> None:
    holder = stack.gateways[gateway].conf
    assert holder.current is not None
    expires_at = holder.current.expires_at

    holder.clock = lambda: expires_at - timedelta(microseconds=1)
    before = stack.call(ECHO_PATH)
    holder.clock = lambda: expires_at
    at = stack.call(ECHO_PATH)

    assert before.status == 200
    assert at.status == 500
    assert json.loads(at.data)["type"] == at.headers["X-Road-Error"] == error_type
    assert len(stack.recorder.calls) == 1


def test_configuration_expiring_exactly_now_is_not_installed(stack: Stack) -> None:
    holder = stack.gateways["GW-A"].conf
    serial_in_use = holder.current.serial
    envelope = stack.envelope()
    content = globalconf_verify(envelope, holder.anchor)
    expires_at = parse_timestamp(content["expires_at"])
    holder.clock = lambda: expires_at

    with pytest.raises(GlobalconfInvalid, match="expired"):
        holder.accept(envelope)
    assert holder.current.serial == serial_in_use
