"""How a gateway finds and trusts the central registry: `--central-url` takes the registry's
base address, `central_ca_file` in gateway.json is the CA bundle its TLS certificate must chain
to (else the system's trust store), and a gateway fetches the global configuration over HTTPS
with the right bundle and refuses it with a wrong one, saying why."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import urllib3
from aiohttp import web
from django.core.management import call_command
from django.core.management.base import CommandError

from egov.exchange.central.addresses import central_url_normalize
from egov.exchange.central.errors import ExchangeSetupInvalid
from egov.exchange.central.management.commands.exchange import Command as ExchangeCommand
from egov.exchange.gateway.server import Gateway
from egov.trust.pki import certificate_issue, pki_init, tls_key_password
from tests.exchange.harness import Stack

COUNTRY = Path(__file__).resolve().parent / "data" / "country.yaml"


@pytest.mark.parametrize(
    ("given", "url"),
    [
        ("https://egov.example.by", "https://egov.example.by/exchange/globalconf"),
        ("https://egov.example.by/", "https://egov.example.by/exchange/globalconf"),
        ("https://egov.example.by:8443", "https://egov.example.by:8443/exchange/globalconf"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000/exchange/globalconf"),
        (
            "http://127.0.0.1:8000/exchange/globalconf",
            "http://127.0.0.1:8000/exchange/globalconf",
        ),
        ("https://central.example/x-road/conf", "https://central.example/x-road/conf"),
    ],
)
def test_the_central_url_is_the_registrys_base_address(given: str, url: str) -> None:
    assert central_url_normalize(given) == url


@pytest.mark.parametrize("given", ["egov.example.by", "ftp://egov.example.by", "https://"])
def test_a_central_url_that_is_no_address_is_refused(given: str) -> None:
    with pytest.raises(ExchangeSetupInvalid, match="must be an http:// or https:// URL"):
        central_url_normalize(given)


def _setup(tmp_path: Path, *options: str) -> dict[str, Any]:
    call_command(
        "exchange",
        "setup",
        "--file",
        str(COUNTRY),
        "--registries-url",
        "http://10.0.0.7:8001",
        *options,
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    return _gateway_file(tmp_path)


def _gateway_file(tmp_path: Path, code: str = "GW-CENTRAL") -> dict[str, Any]:
    return dict(json.loads((tmp_path / "exchange" / code / "gateway.json").read_text()))


def _bundle(tmp_path: Path, pki: Path, name: str = "central-ca.pem") -> Path:
    path = tmp_path / name
    path.write_text((pki / "root.cert.pem").read_text() + (pki / "issuing.cert.pem").read_text())
    return path


def test_outside_the_demo_a_gateway_needs_the_central_registrys_address(
    registry, settings, tmp_path
) -> None:
    settings.DEMO_MODE = False
    settings.CENTRAL_URL = ""
    with pytest.raises(CommandError) as missing:
        _setup(tmp_path)
    assert "--central-url or EGOV_CENTRAL_URL" in str(missing.value)
    assert not (tmp_path / "pki").exists()
    assert not (tmp_path / "exchange").exists()


def test_the_setting_gives_the_address_and_the_demo_its_own(registry, settings, tmp_path) -> None:
    settings.DEMO_MODE = False
    settings.CENTRAL_URL = "https://egov.example.kz/"
    assert _setup(tmp_path)["central_url"] == "https://egov.example.kz/exchange/globalconf"
    settings.CENTRAL_URL = ""
    # A later set-up without an address keeps the one the file has.
    assert _setup(tmp_path)["central_url"] == "https://egov.example.kz/exchange/globalconf"
    assert _setup(tmp_path, "--central-url", "https://central.example.kz")["central_url"] == (
        "https://central.example.kz/exchange/globalconf"
    )
    (tmp_path / "exchange" / "GW-CENTRAL" / "gateway.json").unlink()
    settings.DEMO_MODE = True
    assert _setup(tmp_path)["central_url"] == "http://127.0.0.1:8000/exchange/globalconf"


def test_the_ca_file_goes_into_every_gateway_file(registry, settings, tmp_path) -> None:
    settings.CENTRAL_URL = "https://egov.example.kz"
    other = tmp_path / "other-pki"
    pki_init(directory=other)
    bundle = _bundle(tmp_path, other)
    written = _setup(tmp_path, "--central-ca", str(bundle))
    assert written["central_ca_file"] == str(bundle.resolve())
    assert _gateway_file(tmp_path, "GW-DATA")["central_ca_file"] == str(bundle.resolve())
    # Kept when not given again; the setting gives it too; "" is the system's trust store.
    assert _setup(tmp_path)["central_ca_file"] == str(bundle.resolve())
    call_command("exchange", "gateway", "write-config", "GW-CENTRAL", "--central-ca", "")
    assert _gateway_file(tmp_path)["central_ca_file"] == ""
    settings.CENTRAL_CA_FILE = str(bundle)
    call_command("exchange", "gateway", "write-config", "GW-CENTRAL", stdout=io.StringIO())
    assert _gateway_file(tmp_path)["central_ca_file"] == str(bundle.resolve())


def test_a_ca_file_that_holds_no_certificate_is_refused(registry, settings, tmp_path) -> None:
    settings.CENTRAL_URL = "https://egov.example.kz"
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    for candidate in (junk, tmp_path / "missing.pem"):
        with pytest.raises(CommandError) as refused:
            _setup(tmp_path, "--central-ca", str(candidate))
        assert f"The central registry's CA file {candidate.resolve()} cannot be used" in str(
            refused.value
        )
    assert not (tmp_path / "exchange").exists()


def test_the_options_say_what_they_take() -> None:
    out = io.StringIO()
    parser = ExchangeCommand().create_parser("egov", "exchange")
    for arguments in (["setup"], ["gateway", "add"], ["gateway", "write-config"]):
        with pytest.raises(SystemExit), contextlib.redirect_stdout(out):
            parser.parse_args([*arguments, "--help"])
    text = " ".join(out.getvalue().split())
    assert text.count("--central-url CENTRAL_URL the central registry's address") == 3
    assert "its base address (https://egov.example.by; /exchange/globalconf is appended" in text
    assert text.count("--central-ca FILE PEM file of the CA certificates the gateway trusts") == 3


# --- a gateway and an HTTPS central registry ----------------------------------------------


class Central:
    """The central registry behind TLS: serves the harness's signed configuration over HTTPS
    with a certificate of the platform PKI."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        issued = certificate_issue(
            directory=stack.pki,
            profile="gateway-tls",
            common_name="central registry",
            ip_addresses=["127.0.0.1"],
            dns_names=["localhost"],
            name="central-web-tls",
        )
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(
            issued.certificate_path, issued.key_path, password=tls_key_password
        )
        self.runner: web.AppRunner | None = None
        self.port = 0

    async def _answer(self, request: web.Request) -> web.Response:
        return web.json_response(self.stack.envelope())

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/exchange/globalconf", self._answer)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0, ssl_context=self.context).start()
        self.port = int(self.runner.addresses[0][1])

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"


@pytest.fixture
def central(tmp_path: Path) -> Iterator[Central]:
    stack = Stack(tmp_path).start(gateways=False)
    served = Central(stack)
    stack.run(served.start())
    yield served
    if served.runner is not None:
        stack.run(served.runner.cleanup())
    stack.stop()


def _gateway(central: Central, ca_file: Path | None) -> Gateway:
    settings = dataclasses.replace(
        central.stack.settings_for("GW-A", 0, 0),
        central_url=f"{central.url}/exchange/globalconf",
        central_ca_file=ca_file,
        health_listen="127.0.0.1:0",
    )
    gateway = Gateway(settings)
    central.stack.run(gateway.start())
    central.stack.gateways["GW-A"] = gateway  # stopped with the stack
    return gateway


def _readiness(gateway: Gateway) -> tuple[int, dict[str, Any]]:
    answer = urllib3.request("GET", f"http://127.0.0.1:{gateway.bound['health']}/readyz")
    return answer.status, json.loads(answer.data)


def test_the_gateway_fetches_the_configuration_over_https_with_the_ca_file(
    central: Central, tmp_path: Path
) -> None:
    gateway = _gateway(central, _bundle(tmp_path, central.stack.pki))

    status, report = _readiness(gateway)
    assert gateway.conf.usable() is not None, gateway.conf.last_error
    assert (status, report["status"], report["globalconf"]["valid"]) == (200, "ready", True)
    assert report["globalconf"]["serial"] == central.stack.serial
    assert json.loads(Path(gateway.settings.cache_file).read_text())["signature"]


@pytest.mark.parametrize("trust", ["another PKI", "the system's trust store"])
def test_a_central_certificate_the_gateway_does_not_trust_is_refused_and_said_why(
    central: Central, tmp_path: Path, json_logs: io.StringIO, trust: str
) -> None:
    ca_file = None
    if trust == "another PKI":
        pki_init(directory=tmp_path / "another-pki")
        ca_file = _bundle(tmp_path, tmp_path / "another-pki", "another.pem")

    gateway = _gateway(central, ca_file)

    status, report = _readiness(gateway)
    assert gateway.conf.usable() is None
    assert (status, report["status"]) == (503, "not_ready")
    assert report["globalconf"]["valid"] is False
    assert report["globalconf"]["serial"] is None
    assert "certificate verify failed" in report["globalconf"]["reason"]
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines() if line.strip()]
    (refused,) = [line for line in lines if line["event"] == "globalconf_not_refreshed"]
    assert refused["gateway"] == "GW-A"
    assert refused["central_url"] == f"{central.url}/exchange/globalconf"
    assert "CERTIFICATE_VERIFY_FAILED" in refused["reason"]
