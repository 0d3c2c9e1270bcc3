"""The message log's seals get batch timestamps from the platform's TSA over HTTP; with the
TSA down past the grace period both gateways refuse to forward and report not ready, and
they recover by themselves; ``egov gateway verify-log`` checks the tokens."""

from __future__ import annotations

import base64
import dataclasses
import itertools
import json
import time
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from django.core.management import CommandError, call_command

from egov.exchange.gateway import messages
from egov.exchange.gateway.conf import GatewaySettings
from egov.exchange.gateway.messagelog import record_hash, verify_log
from egov.trust.pki import certificate_issue, load_certificates, load_private_key, sign
from egov.trust.tsa import Authority
from tests.exchange.harness import TRAINING, Stack

ECHO_PATH = "/r1/BY/GOV/MVD/population/echo/ping"
HEADERS = {"X-Road-UserId": "BY4150592M012PB5"}
GRACE = 60.0


class TimestampedStack(Stack):
    """The exchange tests' gateway pair, with a TSA (the platform's authority code behind
    an HTTP endpoint the test can take down) and a health listener on each gateway."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.ports["tsa"] = 0
        issued = certificate_issue(
            directory=self.pki, profile="tsa", common_name="egov TSA", name="tsa"
        )
        key = load_private_key(issued.key_path)
        chain = load_certificates(issued.chain_path)
        self.authority = Authority(
            certificate=chain[0],
            chain=chain[1:],
            sign=lambda data: sign(key, data),
            serials=itertools.count(1).__next__,
            policy="1.3.6.1.4.1.32473.11.1",
        )
        self.tsa_up = True
        self.tsa_queries = 0

    def settings_for(self, code: str, *args: Any, **kwargs: Any) -> GatewaySettings:
        return dataclasses.replace(
            super().settings_for(code, *args, **kwargs),
            tsa_url=f"http://127.0.0.1:{self.ports['tsa']}/trust/tsa",
            timestamp_interval=0.2,
            timestamp_grace=GRACE,
            health_listen="127.0.0.1:0",
        )

    async def _tsa(self, request: web.Request) -> web.Response:
        self.tsa_queries += 1
        if not self.tsa_up:
            return web.Response(status=503)
        reply = self.authority.respond(await request.read())
        return web.Response(body=reply, content_type="application/timestamp-reply")

    async def _start(self, gateways: bool) -> None:
        await self.serve_post("tsa", "/trust/tsa", self._tsa)
        await super()._start(gateways)

    def readiness(self, code: str) -> tuple[int, dict[str, Any]]:
        port = self.gateways[code].bound["health"]
        answer = self.http.request("GET", f"http://127.0.0.1:{port}/readyz")
        return answer.status, json.loads(answer.data)

    def all_timestamped(self) -> bool:
        return all(
            gateway.log.untimestamped_seals == 0 and gateway.log.last_timestamp_at
            for gateway in self.gateways.values()
        )

    def past_grace(self, code: str) -> None:
        """Let the gateway's clock run past the grace period (no waiting for minutes)."""
        self.gateways[code].timestamping.clock = lambda: time.monotonic() + GRACE + 5


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[TimestampedStack]:
    running = TimestampedStack(tmp_path)
    running.start()
    yield running
    if running.gateways:
        running.stop()


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _rewrite(path: Path, rows: list[dict[str, Any]], key_path: Path | None = None) -> None:
    """Write records back with the chain recomputed (and, with the gateway's key, every seal
    signed again): what someone holding the gateway's key could do."""
    key = load_private_key(key_path) if key_path else None
    previous = "0" * 64
    for row in rows:
        row["prev"] = previous
        if row["kind"] == "seal" and key is not None:
            row["head"] = previous
            row["signature"] = messages.sign(key, previous)
        row.pop("record_hash", None)
        row["record_hash"] = record_hash(row)
        previous = row["record_hash"]
    path.write_text(
        "".join(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n" for row in rows)
    )


def _verify(path: Path, ca: Path) -> str:
    out = StringIO()
    call_command("gateway", "verify-log", str(path), "--ca", str(ca), stdout=out)
    return out.getvalue()


def test_seals_get_batch_timestamps_and_verify_log_checks_them(stack, tmp_path):
    for _ in range(3):
        assert stack.call(ECHO_PATH, headers=HEADERS, client=TRAINING).status == 200
    stack.wait_for(stack.all_timestamped, "every seal has a token")
    status, report = stack.readiness("GW-A")
    assert status == 200
    assert report["timestamping"]["ok"] is True
    assert report["timestamping"]["seals_without_token"] == 0
    logs = {code: gateway.log.path for code, gateway in stack.gateways.items()}
    stack.stop()
    stack.gateways = {}
    ca = stack.pki / "issuing.cert.pem"
    for code, path in logs.items():
        rows = _records(path)
        seals = [row for row in rows if row["kind"] == "seal"]
        tokens = [row for row in rows if row["kind"] == "timestamp"]
        assert tokens, code
        # Every seal is covered by exactly one token, in order.
        assert [seq for row in tokens for seq in row["seals"]] == [row["seq"] for row in seals]
        result = verify_log(path, load_certificates(ca))
        assert result.ok, result.problems
        assert (result.timestamps, result.untimestamped_seals) == (len(tokens), 0)
        output = _verify(path, ca)
        assert output.startswith(f"OK {path}: ")
        assert f"{len(tokens)} timestamps" in output

    # A token edited: its TSA signature no longer verifies.
    path = logs["GW-A"]
    rows = _records(path)
    token_row = next(row for row in rows if row["kind"] == "timestamp")
    token = bytearray(base64.b64decode(token_row["token"]))
    token[-10] ^= 0x01
    token_row["token"] = base64.b64encode(bytes(token)).decode()
    _rewrite(path, rows)
    result = verify_log(path, load_certificates(ca))
    assert [problem for problem in result.problems if "token does not verify" in problem]
    with pytest.raises(CommandError):
        _verify(path, ca)


def test_a_log_rewritten_with_the_gateways_own_key_no_longer_matches_its_tokens(stack):
    assert stack.call(ECHO_PATH, headers=HEADERS, client=TRAINING).status == 200
    stack.wait_for(stack.all_timestamped, "every seal has a token")
    path = stack.gateways["GW-A"].log.path
    stack.stop()
    stack.gateways = {}
    rows = _records(path)
    request = next(row for row in rows if row["kind"] == "request")
    request["user_id"] = "BY3030303A030PB3"  # whose data was read, changed afterwards
    _rewrite(path, rows, key_path=stack.certs["GW-A-signing"].key_path)
    result = verify_log(path, load_certificates(stack.pki / "issuing.cert.pem"))
    # Chain and seals are consistent again; only the tokens tell.
    assert [problem for problem in result.problems if "imprint is not the seals'" in problem]
    assert not [problem for problem in result.problems if "seal's signature" in problem]


def test_tsa_down_past_the_grace_period_stops_both_gateways_until_it_is_back(stack):
    assert stack.call(ECHO_PATH, headers=HEADERS, client=TRAINING).status == 200
    stack.wait_for(stack.all_timestamped, "every seal has a token")
    stack.tsa_up = False
    # Within the grace period: forwarding goes on, tokens or not.
    assert stack.call(ECHO_PATH, headers=HEADERS, client=TRAINING).status == 200
    stack.wait_for(
        lambda: all(gateway.log.untimestamped_seals for gateway in stack.gateways.values()),
        "seals wait for their tokens",
    )
    queries = stack.tsa_queries
    stack.wait_for(lambda: stack.tsa_queries > queries + 2, "the gateways keep asking the TSA")
    assert stack.readiness("GW-A")[0] == 200
    calls = len(stack.recorder.calls)

    stack.past_grace("GW-A")
    refused = stack.call(ECHO_PATH, headers=HEADERS, client=TRAINING)
    assert refused.status == 500
    assert refused.headers["X-Road-Error"] == "Server.ClientProxy.TimestampingFailed"
    body = json.loads(refused.data)
    assert "no timestamp" in body["message"] and "TSA" in body["message"]
    status, report = stack.readiness("GW-A")
    assert (status, report["status"], report["timestamping"]["ok"]) == (503, "not_ready", False)
    assert "HTTP 503" in report["timestamping"]["reason"]
    assert len(stack.recorder.calls) == calls  # nothing reached the service

    # The provider's gateway refuses too, on its own account.
    stack.gateways["GW-A"].timestamping.clock = time.monotonic
    stack.past_grace("GW-B")
    refused = stack.call(ECHO_PATH, headers=HEADERS, client=TRAINING)
    assert refused.status == 500
    assert refused.headers["X-Road-Error"] == "Server.ServerProxy.TimestampingFailed"
    assert stack.readiness("GW-B")[0] == 503
    assert len(stack.recorder.calls) == calls

    # The TSA is back: the waiting seals get one token each gateway, forwarding resumes.
    stack.past_grace("GW-A")
    stack.tsa_up = True
    stack.wait_for(stack.all_timestamped, "the waiting seals get their tokens")
    assert stack.readiness("GW-A")[0] == 200
    assert stack.readiness("GW-B")[0] == 200
    # Seals written from now on wait from now, not from a clock moved past the grace period.
    for gateway in stack.gateways.values():
        gateway.timestamping.clock = time.monotonic
    assert stack.call(ECHO_PATH, headers=HEADERS, client=TRAINING).status == 200
    assert len(stack.recorder.calls) == calls + 1


def test_a_tsa_answer_that_is_not_a_good_token_is_not_written(stack):
    stack.wait_for(stack.all_timestamped, "the first seals have their tokens")
    tokens = {
        code: len([row for row in _records(gateway.log.path) if row["kind"] == "timestamp"])
        for code, gateway in stack.gateways.items()
    }
    original = stack.authority.respond
    stack.authority.respond = lambda query: original(b"garbage")  # type: ignore[method-assign]
    assert stack.call(ECHO_PATH, headers=HEADERS, client=TRAINING).status == 200
    queries = stack.tsa_queries
    stack.wait_for(lambda: stack.tsa_queries > queries + 2, "the gateways ask the TSA")
    gateway = stack.gateways["GW-A"]
    assert gateway.log.untimestamped_seals >= 1
    assert "refused" in gateway.timestamping.last_error
    for code, count in tokens.items():
        written = [
            row for row in _records(stack.gateways[code].log.path) if row["kind"] == "timestamp"
        ]
        assert len(written) == count


def test_gateway_json_keys_are_read_and_checked(tmp_path):
    stack = TimestampedStack(tmp_path)
    stack.ports["tsa"] = 8000
    path = stack.write_settings("GW-A", 0, 0)
    loaded = GatewaySettings.load(path)
    assert (loaded.tsa_url, loaded.timestamp_interval, loaded.timestamp_grace) == (
        "http://127.0.0.1:8000/trust/tsa",
        0.2,
        GRACE,
    )
    document = json.loads(path.read_text())
    for key in ("tsa_url", "timestamp_interval", "timestamp_grace"):
        del document[key]
    path.write_text(json.dumps(document))
    loaded = GatewaySettings.load(path)
    assert (loaded.tsa_url, loaded.timestamp_interval, loaded.timestamp_grace) == ("", 10.0, 600.0)
    document["timestamp_grace"] = 0
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match="positive"):
        GatewaySettings.load(path)
    document.update(timestamp_grace=600, tsa_url="ftp://tsa")
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match="tsa_url"):
        GatewaySettings.load(path)
