"""`egov serve` and `egov --version`: the server says it listens only once it does, refuses to
start without collected static files or an address, and writes its logs (the access log
included, when on) as JSON lines with timestamps and without addresses or query strings."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

import egov
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
EGOV = [sys.executable, "-m", "egov.cli"]


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "EGOV_DATA_DIR": str(tmp_path / "var"), "PYTHONUNBUFFERED": "1", **extra}


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path

    def output(self) -> str:
        return self.stdout.read_text(encoding="utf-8", errors="replace")

    def log_lines(self) -> list[dict[str, object]]:
        text = self.stderr.read_text(encoding="utf-8", errors="replace")
        return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def start(tmp_path: Path, port: int, **extra: str) -> Server:
    stdout, stderr = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [*EGOV, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
            env=environment(tmp_path, **extra),
            cwd=ROOT,
            stdout=out,
            stderr=err,
        )
    return Server(process, stdout, stderr)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Server, int]]:
    port = free_port()
    server = start(
        tmp_path,
        port,
        EGOV_LOG_FORMAT="json",
        EGOV_ACCESS_LOG="true",
        EGOV_SERVER_LOG_LEVEL="info",
    )
    try:
        deadline = time.monotonic() + 60
        while "listening" not in server.output():
            assert server.process.poll() is None, server.stderr.read_text()[-3000:]
            assert time.monotonic() < deadline, "the server never said it listens"
            time.sleep(0.2)
        yield server, port
    finally:
        stop(server.process)


def test_listening_is_said_once_bound_with_the_bound_address(served):
    server, port = served

    assert server.output().strip() == f"egov listening on http://127.0.0.1:{port}/ (1 workers)"
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
        assert answer.status == 200


def test_a_taken_port_never_says_listening_and_exits_with_an_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = start(tmp_path, taken.getsockname()[1])
        try:
            code = server.process.wait(timeout=90)
        finally:
            stop(server.process)

    assert code != 0
    assert "listening" not in server.output()


def test_the_access_log_is_a_json_line_without_address_path_or_query(served):
    server, port = served
    with urllib.request.urlopen(
        f"http://127.0.0.1:{port}/healthz?token=4010190H001PB7", timeout=10
    ) as answer:
        assert answer.status == 200

    deadline = time.monotonic() + 10
    while not [line for line in server.log_lines() if line.get("event") == "access"]:
        assert time.monotonic() < deadline, server.stderr.read_text()[-3000:]
        time.sleep(0.2)
    (access,) = [line for line in server.log_lines() if line.get("event") == "access"]
    assert access["logger"] == "egov.access"
    assert access["request"] == "GET healthz"
    assert access["code"] == 200
    assert isinstance(access["duration_ms"], int)
    # The request's own line names it by the same request id.
    (finished,) = [line for line in server.log_lines() if line.get("event") == "request_finished"]
    assert access["request_id"] == finished["request_id"]
    text = json.dumps(access)
    assert "127.0.0.1" not in text
    assert "token" not in text
    assert "4010190H001PB7" not in server.stderr.read_text()
    # gunicorn's own lines (at EGOV_SERVER_LOG_LEVEL=info) are JSON with timestamps as well.
    gunicorn = [line for line in server.log_lines() if line.get("logger") == "gunicorn.error"]
    assert gunicorn
    assert all(str(line["timestamp"]).endswith("Z") for line in server.log_lines())


def test_serve_refuses_to_start_without_collected_static_files(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "egov.cli", "serve", "--bind", f"127.0.0.1:{free_port()}"],
        env=environment(
            tmp_path,
            EGOV_STATICFILES_STORAGE="whitenoise.storage.CompressedManifestStaticFilesStorage",
            EGOV_STATIC_ROOT=str(tmp_path / "static"),
        ),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode != 0
    assert "staticfiles.json is missing" in done.stderr
    assert "collectstatic" in done.stderr
    assert "listening" not in done.stdout


def test_serve_without_an_address_outside_the_demo_says_which_to_give(settings):
    settings.WEB_BIND = ""

    with pytest.raises(CommandError, match="give --bind HOST:PORT or set EGOV_WEB_BIND"):
        call_command("serve")


def test_egov_version_needs_no_settings(tmp_path):
    bare = {name: value for name, value in os.environ.items() if name in ("PATH", "HOME")}
    done = subprocess.run(
        [sys.executable, "-m", "egov.cli", "--version"],
        env=bare,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout == f"egov {version('egov')}\n"
    assert egov.__version__ == version("egov")
