"""An unexpected failure inside a gateway is still X-Road's JSON error with X-Road-Error
(``Server.ClientProxy.InternalError`` / ``Server.ServerProxy.InternalError``), never a bare
500, and it is logged with its traceback and the detail returned to the caller."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.exchange.harness import Stack

ECHO_PATH = "/r1/BY/GOV/MVD/population/echo/x"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    running = Stack(tmp_path).start()
    yield running
    running.stop()


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def broken(*args: object, **kwargs: object) -> None:
    raise OSError("No space left on device")


@pytest.mark.parametrize(
    ("gateway", "side", "error_type"),
    [
        ("GW-A", "client", "Server.ClientProxy.InternalError"),
        ("GW-B", "provider", "Server.ServerProxy.InternalError"),
    ],
)
def test_unexpected_failure_is_an_x_road_error_and_is_logged(
    stack: Stack,
    json_logs: io.StringIO,
    monkeypatch: pytest.MonkeyPatch,
    gateway: str,
    side: str,
    error_type: str,
) -> None:
    monkeypatch.setattr(stack.gateways[gateway].log, "message", broken)

    response = stack.call(ECHO_PATH, headers={"X-Road-Id": "broken-1"})

    assert response.status == 500
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.headers["X-Road-Error"] == error_type
    assert response.headers["X-Road-Id"] == "broken-1"
    body = json.loads(response.data)
    assert body == {
        "type": error_type,
        "message": f"internal error in gateway {gateway}; see detail in its log",
        "detail": body["detail"],
    }
    assert stack.recorder.calls == []
    (logged,) = [line for line in lines(json_logs) if line["event"] == "exchange_internal_error"]
    assert logged["gateway"] == gateway
    assert logged["side"] == side
    assert logged["message_id"] == "broken-1"
    assert logged["detail"] == body["detail"]
    assert logged["level"] == "error"
    assert "OSError: No space left on device" in logged["exception"]
