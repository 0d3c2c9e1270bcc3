"""docs/exchange.md's "Join the exchange", run as written, so the page cannot drift.

The marked code blocks of that section are extracted and run in order with bash in a fresh
folder, against a platform set up there as ``make demo`` does it (a fresh database, ``egov
exchange setup``, the web process serving the central registry and GW-PORTAL running): the
``run`` blocks must succeed, the ``background`` blocks (the ministry's stand-in service and
its own ``egov gateway run``) keep running, and the ``call`` block — curl through GW-PORTAL
and the ministry's gateway — must print exactly the page's ``answer`` block. The only
liberty taken: each loopback port the page names is replaced by a free one, so the test runs
beside a demo. GW-PORTAL refreshes its configuration every second instead of every minute.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from egov.exchange.gateway.messagelog import log_files, verify_log
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "exchange.md"
SECTION = "## Join the exchange"
BLOCK = re.compile(
    r"^(?P<indent>[ ]*)<!-- walkthrough: (?P<kind>run|background|call|answer) -->\n"
    r"(?P=indent)```[a-z]*\n(?P<body>.*?)\n(?P=indent)```$",
    re.S | re.M,
)
LOOPBACK_PORT = re.compile(r"127\.0\.0\.1:(\d+)")


def walkthrough() -> list[tuple[str, str]]:
    """The section's marked blocks as (kind, text), indentation removed."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    section = text[start : end if end > 0 else None]
    blocks = []
    for match in BLOCK.finditer(section):
        indent = match["indent"]
        lines = [
            line[len(indent) :] if line.startswith(indent) else line
            for line in match["body"].split("\n")
        ]
        blocks.append((match["kind"], "\n".join(lines)))
    return blocks


def test_the_page_marks_the_whole_walkthrough() -> None:
    kinds = [kind for kind, _text in walkthrough()]
    assert kinds == ["run"] * 6 + ["background", "background", "call", "answer"]
    commands = "\n".join(text for _kind, text in walkthrough())
    for command in (
        "egov exchange member add",
        "egov exchange gateway add",
        "egov exchange subsystem add",
        "--connection-type HTTPS --issue-certificate",
        "egov exchange service add",
        "--openapi var/walkthrough/hunting-licence.yaml",
        "egov exchange right grant",
        "--purpose training",
        "--endpoint 'GET /licences/*'",
        "egov exchange gateway write-config GW-MINPRIRODY",
        "egov gateway run GW-MINPRIRODY",
        "curl -s -H 'X-Road-Client: BY/GOV/NCES/training'",
    ):
        assert command in commands, command


def _environment() -> dict[str, str]:
    return {
        **{
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("EGOV_", "DJANGO_"))
        },
        # The walkthrough joins the demo's exchange (and its description).
        "EGOV_DEMO": "true",
        "SECRET_KEY": "walkthrough-secret-" + "w" * 40,
        "EGOV_BASE_URL": "http://127.0.0.1:8000",
        "EGOV_EXCHANGE_GATEWAY_URL": "https://127.0.0.1:8090",
        "EGOV_PKI_KEY_PASSPHRASE": "test-pki-key-passphrase",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "EGOV_INSECURE_HTTP": "true",
        # Static files from the source tree, as in the other tests: no collectstatic needed.
        "EGOV_STATIC_FROM_SOURCE": "true",
        "EGOV_STATICFILES_STORAGE": "django.contrib.staticfiles.storage.StaticFilesStorage",
        "PYTHONUNBUFFERED": "1",
    }


def _venv(folder: Path) -> None:
    """``.venv/bin/egov`` and ``.venv/bin/python`` as the page calls them: this Python."""
    bin_dir = folder / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    egov = bin_dir / "egov"
    egov.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m egov.cli "$@"\n')
    egov.chmod(0o755)
    (bin_dir / "python").symlink_to(sys.executable)


def _wait(url: str, *, seconds: float = 60.0, headers: dict[str, str] | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(url, headers=headers or {})
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not come up")


class Platform:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.env = _environment()
        self.processes: list[subprocess.Popen[bytes]] = []
        self.ports: dict[str, str] = {}

    def port(self, documented: str) -> str:
        """The free port that stands for a port the page names."""
        return self.ports.setdefault(documented, str(free_port()))

    def localise(self, text: str) -> str:
        return LOOPBACK_PORT.sub(lambda match: f"127.0.0.1:{self.port(match[1])}", text)

    def run(self, script: str, *, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=self.folder,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
            check=check,
        )

    def start(self, script: str, name: str) -> None:
        log = (self.folder / f"{name}.log").open("wb")
        self.processes.append(
            subprocess.Popen(
                ["bash", "-c", f"exec {script.strip()}"],
                cwd=self.folder,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )

    def stop(self) -> list[int | None]:
        for process in self.processes:
            process.terminate()
        return [process.wait(timeout=30) for process in self.processes]


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Platform]:
    """The demo's central registry and GW-PORTAL, as `make demo` runs them."""
    platform = Platform(tmp_path)
    _venv(tmp_path)
    central = platform.port("8000")
    ports = {
        "GW-PORTAL": {
            "client": int(platform.port("8080")),
            "client_tls": free_port(),
            "server": free_port(),
            "health": free_port(),
        },
        "GW-REGISTRIES": {
            "client": free_port(),
            "client_tls": free_port(),
            "server": free_port(),
            "health": free_port(),
        },
    }
    platform.run(".venv/bin/egov migrate -v 0")
    platform.run(
        ".venv/bin/egov exchange setup --central-url "
        f"http://127.0.0.1:{central}/exchange/globalconf --ports '{json.dumps(ports)}'"
    )
    portal_file = tmp_path / "var/exchange/GW-PORTAL/gateway.json"
    portal = json.loads(portal_file.read_text())
    portal_file.write_text(json.dumps({**portal, "refresh_seconds": 1}))
    platform.start(f".venv/bin/egov serve --bind 127.0.0.1:{central} --workers 1", "web")
    platform.start(".venv/bin/egov gateway run GW-PORTAL", "gw-portal")
    try:
        _wait(f"http://127.0.0.1:{central}/exchange/globalconf")
        _wait(f"http://127.0.0.1:{platform.port('8080')}/listClients")
        yield platform
    finally:
        platform.stop()


def test_a_ministry_joins_as_the_page_says_and_answers_through_both_gateways(demo) -> None:
    blocks = walkthrough()
    answer = next(text for kind, text in blocks if kind == "answer")
    outputs: list[str] = []
    call = ""
    for number, (kind, text) in enumerate(blocks):
        script = demo.localise(text)
        if kind == "run":
            outputs.append(demo.run(script).stdout)
        elif kind == "background":
            demo.start(script, f"background-{number}")
        elif kind == "call":
            call = script

    # every registration said what it did
    assert outputs[0].splitlines()[:2] == [
        "member BY/GOV/MINPRIRODY: registry updated",
        "gateway GW-MINPRIRODY: registry updated",
    ]
    assert outputs[1].splitlines()[0] == "subsystem BY/GOV/MINPRIRODY/hunting: registry updated"
    assert outputs[3] == (
        "right BY/GOV/NCES/training → BY/GOV/MINPRIRODY/hunting/licence: registry updated\n"
    )
    key = demo.folder / "var/exchange/provider-keys/BY%2FGOV%2FMINPRIRODY%2Fhunting.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    gateway = json.loads((demo.folder / "var/exchange/GW-MINPRIRODY/gateway.json").read_text())
    assert gateway["provider_credentials"] == {"BY/GOV/MINPRIRODY/hunting": str(key)}
    assert gateway["services"] == {
        "BY/GOV/MINPRIRODY/hunting/licence": f"http://127.0.0.1:{demo.port('9310')}/hunting/v1"
    }

    # GW-PORTAL picks the new gateway, service and right up at its next refresh
    deadline = time.monotonic() + 60
    result = demo.run(call, check=False)
    while result.stdout != answer and time.monotonic() < deadline:
        time.sleep(0.5)
        result = demo.run(call, check=False)
    assert result.stdout == answer
    assert json.loads(result.stdout)["purposes"] == ["training"]

    # what the right does not cover is refused by the gateways, not by the service
    refused = demo.run(
        call.replace("curl -s", "curl -s -X POST").replace("/licences/AB-2026-000123", "/licences")
    )
    assert json.loads(refused.stdout)["type"] == "Server.ServerProxy.AccessDenied"
    narrowed = demo.run(call.replace("curl -s", "curl -s -H 'X-Egov-Purpose: check'"))
    assert json.loads(narrowed.stdout)["type"] == "Client.InvalidPurpose"

    codes = demo.stop()
    assert codes[-1] == 0, (demo.folder / "background-7.log").read_text()[-2000:]
    files = log_files(demo.folder / "var/exchange/GW-MINPRIRODY/messagelog")
    assert files
    for path in files:
        assert verify_log(path).problems == []
