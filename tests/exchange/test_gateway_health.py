"""A gateway's health checks on its own listener (``health_listen`` in gateway.json, written
from the description's ``health_port``): ``GET /healthz`` says the process answers, ``GET
/readyz`` whether the global configuration is valid (and for how long) and both sides
listen; a side that cannot bind stops the start with a clear error."""

from __future__ import annotations

import dataclasses
import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import urllib3

from egov.exchange.central.setup import demo_data, exchange_setup
from egov.exchange.gateway.server import Gateway, GatewayStartError
from tests.exchange.harness import Stack

HTTP = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(5))


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    running = Stack(tmp_path).start(gateways=False)
    yield running
    running.stop()


def _start(stack: Stack, **changes: Any) -> Gateway:
    settings = dataclasses.replace(
        stack.settings_for("GW-A", 0, 0), **{"health_listen": "127.0.0.1:0", **changes}
    )
    gateway = Gateway(settings)
    stack.run(gateway.start())
    stack.gateways["GW-A"] = gateway
    return gateway


def _get(gateway: Gateway, path: str, method: str = "GET") -> tuple[int, dict[str, Any]]:
    answer = HTTP.request(method, f"http://127.0.0.1:{gateway.bound['health']}{path}")
    return answer.status, json.loads(answer.data)


def test_not_ready_until_the_configuration_is_fetched_then_ready(stack: Stack) -> None:
    stack.central_up = False
    gateway = _start(stack)

    assert _get(gateway, "/healthz") == (200, {"status": "ok"})
    status, report = _get(gateway, "/readyz")
    assert status == 503
    assert report == {
        "status": "not_ready",
        "globalconf": {
            "valid": False,
            "serial": None,
            "expires_at": None,
            "valid_for_seconds": None,
            "reason": "central registry answered 503",
        },
        "client_side": {"listening": True},
        "provider_side": {"listening": True},
    }

    stack.central_up = True
    stack.run(gateway.refresh())
    status, report = _get(gateway, "/readyz")
    assert (status, report["status"]) == (200, "ready")
    conf = report["globalconf"]
    assert (conf["valid"], conf["serial"], conf["reason"]) == (True, stack.serial, None)
    expires = datetime.strptime(conf["expires_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert expires - datetime.now(UTC) <= stack.validity
    assert 590 <= conf["valid_for_seconds"] <= 600
    assert report["client_side"] == report["provider_side"] == {"listening": True}


def test_an_expired_configuration_is_not_ready_and_says_so(stack: Stack) -> None:
    gateway = _start(stack)
    assert _get(gateway, "/readyz")[0] == 200

    stack.central_up = False
    stack.run(gateway.refresh())
    status, report = _get(gateway, "/readyz")
    assert (status, report["globalconf"]["valid"]) == (200, True)  # still valid from its copy
    assert report["globalconf"]["reason"] == (
        "the last refresh failed: central registry answered 503"
    )

    gateway.conf.clock = lambda: datetime.now(UTC) + timedelta(minutes=11)
    status, report = _get(gateway, "/readyz")
    assert (status, report["status"]) == (503, "not_ready")
    assert report["globalconf"]["valid"] is False
    assert report["globalconf"]["serial"] == stack.serial
    assert report["globalconf"]["valid_for_seconds"] == 0
    assert report["globalconf"]["reason"].startswith("the global configuration has expired")


def test_a_side_that_stopped_listening_is_not_ready(stack: Stack) -> None:
    gateway = _start(stack)
    server = gateway._listening["server"]
    server.close()
    stack.run(server.wait_closed())

    status, report = _get(gateway, "/readyz")
    assert (status, report["status"]) == (503, "not_ready")
    assert report["globalconf"]["valid"] is True
    assert (report["client_side"], report["provider_side"]) == (
        {"listening": True},
        {"listening": False},
    )


def test_the_health_listener_answers_nothing_else(stack: Stack) -> None:
    gateway = _start(stack)

    assert _get(gateway, "/r1/BY/GOV/MVD/population/echo") == (404, {"status": "not_found"})
    assert _get(gateway, "/readyz", method="POST") == (405, {"status": "method_not_allowed"})
    answer = HTTP.request("GET", f"http://127.0.0.1:{gateway.bound['health']}/readyz")
    assert answer.headers["Cache-Control"] == "no-store"


def test_without_a_health_address_there_is_no_health_listener(stack: Stack) -> None:
    gateway = _start(stack, health_listen="")
    assert "health" not in gateway.bound
    assert gateway.readiness()["status"] == "ready"


@pytest.mark.parametrize("side", ["client_listen", "server_listen", "health_listen"])
def test_a_taken_port_stops_the_start_with_the_side_and_address(stack: Stack, side: str) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        settings = dataclasses.replace(
            stack.settings_for("GW-A", 0, 0),
            **{"health_listen": "127.0.0.1:0", side: f"127.0.0.1:{port}"},
        )
        gateway = Gateway(settings)
        with pytest.raises(GatewayStartError) as refused:
            stack.run(gateway.start())
    finally:
        taken.close()
    what = {"client_listen": "client", "server_listen": "server", "health_listen": "health"}
    assert str(refused.value).startswith(
        f"gateway GW-A cannot listen on 127.0.0.1:{port} ({what[side]} side): "
    )
    # Everything started before the failure is stopped again: nothing listens.
    assert all(not server.is_serving() for server in gateway._listening.values())
    assert gateway._servers == []


def test_setup_writes_each_gateways_health_address(registry, tmp_path: Path) -> None:
    exchange_setup(
        data=demo_data(),
        pki_dir=tmp_path / "pki",
        exchange_dir=tmp_path / "exchange",
        client_tls_dir=tmp_path / "clients",
        provider_keys_dir=tmp_path / "keys",
        registries_url="http://127.0.0.1:8001",
        central_url="http://127.0.0.1:8000",
        ports={"GW-REGISTRIES": {"health": "0.0.0.0:18086"}},
        warn=lambda message: None,
    )
    files = {
        code: json.loads((tmp_path / "exchange" / code / "gateway.json").read_text())
        for code in ("GW-PORTAL", "GW-REGISTRIES")
    }
    assert files["GW-PORTAL"]["health_listen"] == "127.0.0.1:8085"
    assert files["GW-REGISTRIES"]["health_listen"] == "0.0.0.0:18086"
    assert [item.get("health_port") for item in demo_data()["gateways"]] == [8085, 8086]
