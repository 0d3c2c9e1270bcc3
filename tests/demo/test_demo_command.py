"""``egov demo`` starts the web server, the worker, the registries' process and both gateways;
the web server and the worker reach the registries on the TLS client side of the portal's
gateway with the certificate folder the exchange setup wrote."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command

from egov.demo.management.commands import demo


class Started:
    def __init__(self) -> None:
        self.commands: list[tuple[list[str], dict[str, str]]] = []

    def __call__(self, command: list[str], env: dict[str, str] | None = None) -> Any:
        self.commands.append((command[3:], dict(env or {})))
        return self

    def terminate(self) -> None:
        return None

    def wait(self, timeout: float) -> int:
        return 0


@pytest.fixture
def started(monkeypatch, settings, tmp_path: Path) -> Started:  # type: ignore[no-untyped-def]
    built = tmp_path / "static" / "egov" / "dist" / "app.css"
    built.parent.mkdir(parents=True)
    built.write_text("")
    settings.PACKAGE_DIR = tmp_path
    settings.EXCHANGE_GATEWAY_URL = "https://127.0.0.1:8090"
    settings.EXCHANGE_CLIENT_TLS_DIR = tmp_path / "exchange" / "clients"
    settings.EXCHANGE_PROVIDER_KEYS_DIR = tmp_path / "exchange" / "provider-keys"
    settings.PKI_DIR = tmp_path / "pki"
    settings.EXCHANGE_DIR = tmp_path / "exchange"
    recorder = Started()
    called: list[str] = []
    monkeypatch.setattr(demo.subprocess, "Popen", recorder)
    monkeypatch.setattr(demo, "call_command", lambda name, *a, **k: called.append(name))
    recorder.called = called  # type: ignore[attr-defined]
    return recorder


def test_demo_runs_every_process_with_the_exchange_client_settings(started, tmp_path):
    call_command("demo", verbosity=0)

    assert started.called == ["migrate", "collectstatic", "seed", "serve"]  # type: ignore[attr-defined]
    assert [command for command, _env in started.commands] == [
        ["worker"],
        ["serve", "--bind", "127.0.0.1:8001", "--workers", "2"],
        ["gateway", "run", "GW-REGISTRIES"],
        ["gateway", "run", "GW-PORTAL"],
        ["signer", "--pkcs12-dir", str(django_settings.EID_DIR)],
    ]
    for command, env in started.commands:
        assert env["EGOV_EXCHANGE_GATEWAY_URL"] == "https://127.0.0.1:8090", command
        assert env["EGOV_EXCHANGE_CLIENT_TLS_DIR"] == str(tmp_path / "exchange" / "clients")
        assert env["EGOV_EXCHANGE_PROVIDER_KEYS_DIR"] == str(
            tmp_path / "exchange" / "provider-keys"
        )
        assert env["EGOV_PKI_DIR"] == str(tmp_path / "pki")
        assert env["EGOV_EXCHANGE_DIR"] == str(tmp_path / "exchange")
    registries_env = started.commands[1][1]
    assert registries_env["EGOV_ROOT_URLCONF"] == "egov.registries.urls"
    assert "EGOV_ROOT_URLCONF" not in started.commands[0][1]


def test_demo_without_serving_starts_nothing(started):
    call_command("demo", no_serve=True, verbosity=0)

    assert started.called == ["migrate", "collectstatic", "seed"]  # type: ignore[attr-defined]
    assert started.commands == []
