"""A gateway refuses another gateway whose certificate is revoked, as soon as the platform's
OCSP responder says so (before the global configuration lists it), on both sides; and, fail
closed, one whose status it could not learn for longer than ``ocsp_max_age``."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from egov.exchange.gateway.conf import GatewaySettings
from egov.trust.pki import certificate_issue, certificate_revoke, load_certificate, load_private_key
from egov.trust.pki.ocsp import ocsp_respond
from tests.exchange.harness import TRAINING, Stack

ECHO_PATH = "/r1/BY/GOV/MVD/population/echo/ping"
MAX_AGE = 60.0


class OcspStack(Stack):
    """The exchange tests' gateway pair, with the platform's OCSP responder code behind an
    HTTP endpoint the test can take down."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.ports["ocsp"] = 0
        issued = certificate_issue(
            directory=self.pki, profile="ocsp-responder", common_name="egov OCSP", name="ocsp"
        )
        self.responder = load_certificate(issued.certificate_path)
        self.responder_key = load_private_key(issued.key_path)
        self.ocsp_up = True

    def settings_for(self, code: str, *args: Any, **kwargs: Any) -> GatewaySettings:
        return dataclasses.replace(
            super().settings_for(code, *args, **kwargs),
            ocsp_url=f"http://127.0.0.1:{self.ports['ocsp']}/trust/ocsp",
            ocsp_interval=0.2,
            ocsp_max_age=MAX_AGE,
        )

    async def _ocsp(self, request: web.Request) -> web.Response:
        if not self.ocsp_up:
            return web.Response(status=503)
        answer = ocsp_respond(
            directory=self.pki,
            request_der=await request.read(),
            responder_certificate=self.responder,
            responder_key=self.responder_key,
        )
        return web.Response(body=answer, content_type="application/ocsp-response")

    async def _start(self, gateways: bool) -> None:
        await self.serve_post("ocsp", "/trust/ocsp", self._ocsp)
        await super()._start(gateways)

    def revoke(self, name: str) -> int:
        serial = load_certificate(self.certs[name].certificate_path).serial_number
        certificate_revoke(directory=self.pki, serial=serial, reason="key_compromise")
        return serial

    def status(self, code: str, serial: int) -> str:
        known = self.gateways[code].peer_statuses.statuses.get(serial)
        return known.status if known else ""

    def echo(self) -> Any:
        return self.call(ECHO_PATH, client=TRAINING)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[OcspStack]:
    running = OcspStack(tmp_path)
    running.start()
    yield running
    running.stop()


def test_the_callers_gateway_refuses_a_provider_gateway_revoked_at_the_responder(stack):
    assert stack.echo().status == 200
    serial = stack.revoke("GW-B-tls")
    assert serial not in stack.gateways["GW-A"].conf.current.revoked  # not published yet
    stack.wait_for(lambda: stack.status("GW-A", serial) == "revoked", "GW-A learns it")
    calls = len(stack.recorder.calls)
    refused = stack.echo()
    assert refused.status == 500
    assert refused.headers["X-Road-Error"] == "Server.ClientProxy.SslAuthenticationFailed"
    assert json.loads(refused.data)["message"] == (
        "the certificate of gateway GW-B is revoked (OCSP)"
    )
    assert len(stack.recorder.calls) == calls


def test_the_providers_gateway_refuses_a_caller_revoked_at_the_responder(stack):
    assert stack.echo().status == 200
    serial = stack.revoke("GW-A-signing")
    stack.wait_for(lambda: stack.status("GW-B", serial) == "revoked", "GW-B learns it")
    calls = len(stack.recorder.calls)
    refused = stack.echo()
    assert refused.status == 500
    assert refused.headers["X-Road-Error"] == "Server.ServerProxy.SslAuthenticationFailed"
    assert "gateway GW-A is revoked (OCSP)" in json.loads(refused.data)["message"]
    assert len(stack.recorder.calls) == calls


def test_without_a_current_status_past_the_maximum_age_the_peer_is_refused(stack):
    assert stack.echo().status == 200
    stack.ocsp_up = False
    gateway = stack.gateways["GW-A"]
    gateway.peer_statuses.clock = lambda: time.monotonic() + MAX_AGE + 5
    refused = stack.echo()
    assert refused.headers["X-Road-Error"] == "Server.ClientProxy.SslAuthenticationFailed"
    assert (
        "no current OCSP status for the certificates of gateway GW-B"
        in json.loads(refused.data)["message"]
    )
    stack.ocsp_up = True  # answers again: the statuses are fresh, the calls go through
    stack.wait_for(lambda: stack.echo().status == 200, "GW-A serves again")
