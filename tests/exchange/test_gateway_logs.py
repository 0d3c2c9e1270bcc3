"""A gateway's logs: JSON lines with a timestamp each, ``listening`` only once its sockets are
bound, an access line per request when ``EGOV_ACCESS_LOG`` is on (identifiers, status and
duration: no user, no path, no query), aiohttp's own loggers at ``EGOV_SERVER_LOG_LEVEL``."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from egov.exchange.gateway import server as gateway_server
from tests.exchange.harness import PERSON, PORTAL, Stack, free_port
from tests.exchange.test_gateway_processes import wait_for

CITIZEN = "4150592M012PB5"
CALL = {
    "X-Road-UserId": f"BY{CITIZEN}",
    "X-Egov-Purpose": "check",
    "X-Road-Issue": "MVD-2026-000001",
}


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture
def access_logged(json_logs: io.StringIO) -> Iterator[io.StringIO]:
    """The JSON logs with the access logger on, as `egov gateway run` turns it on."""
    access = logging.getLogger("egov.access")
    level = access.level
    access.setLevel(logging.INFO)
    yield json_logs
    access.setLevel(level)


def _stack(tmp_path: Path, *, access_log: bool) -> Stack:
    stack = Stack(tmp_path).start()
    for gateway in stack.gateways.values():
        gateway.settings = dataclasses.replace(gateway.settings, access_log=access_log)
    return stack


def test_one_access_line_per_request_on_each_side(tmp_path: Path, access_logged) -> None:
    stack = _stack(tmp_path, access_log=True)
    try:
        answer = stack.call(f"/r1/{PERSON}/{CITIZEN}?fields=all", headers=CALL)
        refused = stack.call(f"/r1/{PERSON}/{CITIZEN}", headers={**CALL, "X-Egov-Purpose": "x"})
    finally:
        stack.stop()
    assert (answer.status, refused.status) == (200, 400)
    message_id = answer.headers["X-Road-Id"]
    access = [line for line in _lines(access_logged.getvalue()) if line["logger"] == "egov.access"]
    answered = [line for line in access if line["message_id"] == message_id]
    assert sorted(line["side"] for line in answered) == ["client", "provider"]
    for line in answered:
        assert line["event"] == "access"
        assert (line["client"], line["service"], line["status"], line["error"]) == (
            PORTAL,
            PERSON,
            200,
            "",
        )
        assert isinstance(line["duration_ms"], float)
        assert line["timestamp"] and line["level"] == "info"
    (failed,) = [line for line in access if line["status"] == 400]
    assert (failed["side"], failed["error"]) == ("client", "Client.InvalidPurpose")
    # No user, no path, no query: nothing personal in an access line.
    text = json.dumps(access)
    assert CITIZEN not in text and "fields" not in text and "MVD-2026" not in text
    assert not any({"user_id", "path", "query"} & set(line) for line in access)


def test_no_access_lines_unless_turned_on(tmp_path: Path, access_logged) -> None:
    stack = _stack(tmp_path, access_log=False)
    try:
        assert stack.call(f"/r1/{PERSON}/{CITIZEN}", headers=CALL).status == 200
    finally:
        stack.stop()
    assert not [line for line in _lines(access_logged.getvalue()) if line["event"] == "access"]


def test_the_command_sets_the_servers_and_the_access_logs_levels(
    tmp_path: Path, settings, monkeypatch
) -> None:
    stack = Stack(tmp_path)
    path = stack.write_settings("GW-A", free_port(), free_port())
    seen: dict[str, Any] = {}

    async def serve(gateway_settings: Any) -> None:
        seen["access_log"] = gateway_settings.access_log
        seen["aiohttp"] = logging.getLogger("aiohttp").level
        seen["aiohttp.server"] = logging.getLogger("aiohttp.server").getEffectiveLevel()
        seen["egov.access"] = logging.getLogger("egov.access").getEffectiveLevel()

    monkeypatch.setattr(gateway_server, "serve", serve)
    levels = {name: logging.getLogger(name).level for name in ("aiohttp", "egov.access")}
    settings.SERVER_LOG_LEVEL, settings.ACCESS_LOG = "error", True
    failures: list[BaseException] = []

    def run() -> None:
        try:
            call_command("gateway", "run", "GW-A", "--config", str(path))
        except BaseException as error:  # re-raised below, in the test's thread
            failures.append(error)

    # In a thread of its own, as in its own process: the browser tests' session-wide
    # Playwright keeps an event loop running in the main thread, and the command starts one.
    try:
        worker = threading.Thread(target=run)
        worker.start()
        worker.join(timeout=60)
        assert not worker.is_alive(), "the gateway command did not return"
        if failures:
            raise failures[0]
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    assert seen == {
        "access_log": True,
        "aiohttp": logging.ERROR,
        "aiohttp.server": logging.ERROR,
        "egov.access": logging.INFO,
    }


def _environment(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1", "EGOV_LOG_FORMAT": "json", **extra}


def _run(path: Path, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "egov.cli", "gateway", "run", "GW-X", "--config", str(path)],
        env=_environment(**extra),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_gateway_process_writes_json_lines_with_timestamps(tmp_path: Path) -> None:
    stack = Stack(tmp_path).start(gateways=False)
    names = ("a-client", "a-client-tls", "a-server", "b-client", "b-client-tls", "b-server")
    ports = {name: free_port() for name in names}
    stack.ports.update(ports)
    configs = {
        code: stack.write_settings(
            code, ports[f"{side}-client"], ports[f"{side}-server"], ports[f"{side}-client-tls"]
        )
        for code, side in (("GW-A", "a"), ("GW-B", "b"))
    }
    processes = [_run(path, EGOV_ACCESS_LOG="true") for path in configs.values()]
    try:
        wait_for(f"http://127.0.0.1:{ports['a-client']}/listClients", process=processes[0])
        wait_for(f"http://127.0.0.1:{ports['b-client']}/listClients", process=processes[1])
        assert stack.call(f"/r1/{PERSON}/{CITIZEN}", headers=CALL).status == 200
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        outputs = [process.communicate(timeout=20)[1] for process in processes]
        stack.stop()
    assert [process.returncode for process in processes] == [0, 0]
    for code, output in zip(configs, outputs, strict=True):
        lines = _lines(output)  # every line is JSON
        assert lines and all(line.get("timestamp") for line in lines), output
        (listening,) = [line for line in lines if line["event"] == "listening"]
        assert listening["gateway"] == code
        # The waits' listClients are lines too (no client, no service); then the call.
        access = [line for line in lines if line["event"] == "access" and line["service"]]
        assert [(line["client"], line["service"], line["status"]) for line in access] == [
            (PORTAL, PERSON, 200)
        ]
        assert CITIZEN not in output


def test_a_taken_port_is_a_clear_error_and_no_listening_line(tmp_path: Path) -> None:
    stack = Stack(tmp_path)
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        path = stack.write_settings("GW-A", port, free_port())
        process = _run(path)
        _out, errors = process.communicate(timeout=60)
    finally:
        taken.close()
    assert process.returncode != 0
    assert f"gateway GW-A cannot listen on 127.0.0.1:{port} (client side)" in errors
    assert '"event": "listening"' not in errors
    with pytest.raises(CommandError, match="does not exist"):
        call_command("gateway", "run", "GW-A", "--config", str(tmp_path / "missing.json"))
