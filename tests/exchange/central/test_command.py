"""``egov exchange`` subcommands: a ministry joins the exchange without code."""

from __future__ import annotations

import contextlib
import io
import json
import socket
import stat
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from egov.exchange.central.management.commands.exchange import Command
from egov.exchange.central.models import (
    AccessRight,
    ClientCertificate,
    Gateway,
    Member,
    Service,
    Subsystem,
)
from egov.exchange.central.selectors import configuration_serial
from egov.trust.pki import certificate_issue, certificates_list, load_certificate, pki_init
from tests.exchange.central.test_clients_and_rights import LICENCES

MINISTRY = "BY/GOV/MINPRIRODY"
HUNTING = f"{MINISTRY}/hunting"
LICENCE = f"{HUNTING}/licence"
PURPOSE = [
    "--purpose",
    "training",
    "--purpose-text-be",
    "Навучанне",
    "--purpose-text-ru",
    "Обучение",
    "--purpose-text-en",
    "Training",
    "--legal-basis-be",
    "Закон № 455-З",
    "--legal-basis-ru",
    "Закон № 455-З",
    "--legal-basis-en",
    "Law No. 455-Z",
]


@pytest.fixture
def folders(registry, settings, tmp_path: Path) -> dict[str, Path]:
    """An initialised PKI and empty exchange folders, as the settings name them."""
    pki_init(directory=registry)
    settings.EXCHANGE_CLIENT_TLS_DIR = tmp_path / "clients"
    settings.EXCHANGE_PROVIDER_KEYS_DIR = tmp_path / "provider-keys"
    (tmp_path / "licence.yaml").write_text(LICENCES)
    return {
        "pki": Path(registry).resolve(),
        "exchange": Path(settings.EXCHANGE_DIR).resolve(),
        "clients": (tmp_path / "clients").resolve(),
        "keys": (tmp_path / "provider-keys").resolve(),
        "openapi": tmp_path / "licence.yaml",
    }


def exchange(*arguments: str) -> str:
    out = io.StringIO()
    call_command("exchange", *arguments, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _join(folders: dict[str, Path]) -> list[str]:
    """The walkthrough's commands for a new ministry; returns their outputs."""
    return [
        exchange("member", "add", MINISTRY, "--name", "Ministry of Natural Resources"),
        exchange(
            "gateway",
            "add",
            "GW-MINPRIRODY",
            "--owner",
            MINISTRY,
            "--client-listen",
            "127.0.0.1:18082",
            "--client-tls-listen",
            "127.0.0.1:18092",
            "--server-listen",
            "127.0.0.1:18445",
            "--central-url",
            "http://127.0.0.1:18000/exchange/globalconf",
        ),
        exchange(
            "subsystem",
            "add",
            HUNTING,
            "--gateway",
            "GW-MINPRIRODY",
            "--connection-type",
            "HTTPS",
            "--issue-certificate",
        ),
        exchange(
            "service",
            "add",
            LICENCE,
            "--openapi",
            str(folders["openapi"]),
            "--base-url",
            "http://127.0.0.1:19310/hunting/v1",
            "--personal-data",
        ),
        exchange("subsystem", "add", "BY/GOV/NCES/training", "--connection-type", "HTTP"),
        exchange(
            "right",
            "grant",
            "BY/GOV/NCES/training",
            LICENCE,
            "--endpoint",
            "GET /licences/*",
            *PURPOSE,
        ),
        exchange("gateway", "write-config", "GW-MINPRIRODY"),
    ]


@pytest.fixture
def nces(folders) -> Member:  # type: ignore[no-untyped-def]
    exchange("member", "add", "BY/GOV/NCES", "--name", "National Centre of Electronic Services")
    return Member.objects.get(member_code="NCES")


def test_a_ministry_joins_with_subcommands(folders, nces):
    serial = configuration_serial()
    outputs = _join(folders)

    assert outputs[0] == "member BY/GOV/MINPRIRODY: registry updated\n"
    gateway = Gateway.objects.get(code="GW-MINPRIRODY")
    assert (gateway.owner.identifier, gateway.address) == (MINISTRY, "https://127.0.0.1:18445")
    assert (gateway.client_listen, gateway.client_tls_listen, gateway.server_listen) == (
        "127.0.0.1:18082",
        "127.0.0.1:18092",
        "127.0.0.1:18445",
    )
    hunting = Subsystem.objects.get(code="hunting")
    assert (hunting.gateway, hunting.connection_type) == (gateway, "HTTPS")
    stem = quote(HUNTING, safe="")
    certificate_file = folders["clients"] / f"{stem}.cert.pem"
    key_file = folders["clients"] / f"{stem}.key.pem"
    assert outputs[2].splitlines() == [
        f"subsystem {HUNTING}: registry updated",
        f"wrote {key_file}",
        f"wrote {certificate_file}",
        "next: egov exchange gateway write-config GW-MINPRIRODY",
    ]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    issued = load_certificate(certificate_file)
    assert list(hunting.client_certificates.values_list("fingerprint", flat=True)) == [
        _fingerprint(certificate_file)
    ]
    assert issued.subject.rfc4514_string() == f"CN={HUNTING},O=Ministry of Natural Resources"

    licence = Service.objects.get(service_code="licence")
    assert (licence.title, licence.personal_data, licence.backend_url, licence.openapi) == (
        "Hunting licence",
        True,
        "http://127.0.0.1:19310/hunting/v1",
        LICENCES,
    )
    assert licence.endpoints == [
        {"method": "GET", "path": "/licences/*"},
        {"method": "POST", "path": "/licences"},
    ]
    assert outputs[3].splitlines()[1:] == [
        "  GET /licences/*",
        "  POST /licences",
        "next: egov exchange gateway write-config GW-MINPRIRODY",
    ]
    right = AccessRight.objects.get(service=licence)
    assert (right.client_identifier, right.endpoints) == (
        "BY/GOV/NCES/training",
        [{"method": "GET", "path": "/licences/*"}],
    )
    assert [purpose.as_published() for purpose in right.purposes.all()] == [
        {
            "code": "training",
            "text": {"be": "Навучанне", "ru": "Обучение", "en": "Training"},
            "legal_basis": {"be": "Закон № 455-З", "ru": "Закон № 455-З", "en": "Law No. 455-Z"},
        }
    ]
    # member, gateway, subsystem, certificate, service, training subsystem, right
    assert configuration_serial() == serial + 7

    key = folders["keys"] / f"{stem}.key"
    pki = folders["pki"]
    folder = folders["exchange"] / "GW-MINPRIRODY"
    assert json.loads((folder / "gateway.json").read_text()) == {
        "code": "GW-MINPRIRODY",
        "instance": "BY",
        "client_listen": "127.0.0.1:18082",
        "client_tls_listen": "127.0.0.1:18092",
        "server_listen": "127.0.0.1:18445",
        "health_listen": "",
        "central_url": "http://127.0.0.1:18000/exchange/globalconf",
        "central_ca_file": "",
        "anchor": str(pki / "issued/central-signing.cert.pem"),
        "tls_key": str(pki / "issued/GW-MINPRIRODY-tls.key.pem"),
        "tls_certificate": str(pki / "issued/GW-MINPRIRODY-tls.cert.pem"),
        "signing_key": str(pki / "issued/GW-MINPRIRODY-signing.key.pem"),
        "signing_certificate": str(pki / "issued/GW-MINPRIRODY-signing.cert.pem"),
        "ca_certificates": [str(pki / "root.cert.pem"), str(pki / "issuing.cert.pem")],
        "services": {LICENCE: "http://127.0.0.1:19310/hunting/v1"},
        "provider_credentials": {HUNTING: str(key)},
        "cache_file": str(folder / "globalconf.json"),
        "log_dir": str(folder / "messagelog"),
        "tsa_url": "http://127.0.0.1:18000/trust/tsa",
        "timestamp_interval": 10,
        "timestamp_grace": 600,
        "ocsp_url": "http://127.0.0.1:18000/trust/ocsp",
    }
    assert outputs[6].splitlines() == [
        "gateway GW-MINPRIRODY: registry unchanged",
        f"wrote {key}",
        f"wrote {folder / 'gateway.json'}",
        str(folder / "gateway.json"),
    ]
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(key.read_text().strip()) == 43
    assert (folder / "messagelog").is_dir()
    assert [entry["name"] for entry in certificates_list(directory=pki)] == [
        "GW-MINPRIRODY-tls",
        "GW-MINPRIRODY-signing",
        "central-signing",
        # The responder the gateway asks about its peers, issued with its first configuration.
        "ocsp",
        f"client-{stem}",
    ]


def _fingerprint(path: Path) -> str:
    entry = ClientCertificate(certificate=path.read_text())
    entry.derive()
    return entry.fingerprint


def test_joining_again_changes_nothing(folders, nces):
    _join(folders)
    serial = configuration_serial()
    files = {
        path: (path.read_bytes(), path.stat().st_mtime_ns)
        for path in folders["exchange"].rglob("*")
        if path.is_file()
    }
    index = (folders["pki"] / "index.json").read_bytes()
    outputs = _join(folders)
    assert configuration_serial() == serial
    assert (folders["pki"] / "index.json").read_bytes() == index
    assert {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in files} == files
    assert [output.splitlines()[0] for output in outputs] == [
        f"member {MINISTRY}: registry unchanged",
        "gateway GW-MINPRIRODY: registry unchanged",
        f"subsystem {HUNTING}: registry unchanged",
        f"service {LICENCE}: registry unchanged",
        "subsystem BY/GOV/NCES/training: registry unchanged",
        f"right BY/GOV/NCES/training → {LICENCE}: registry unchanged",
        "gateway GW-MINPRIRODY: registry unchanged",
    ]


def test_a_registered_certificate_file_and_a_member_client(folders, tmp_path):
    exchange("member", "add", MINISTRY, "--name", "Ministry of Natural Resources")
    issued = certificate_issue(
        directory=folders["pki"], profile="information-system", common_name="crm", name="crm"
    )
    exchange(
        "member",
        "add",
        MINISTRY,
        "--name",
        "Ministry of Natural Resources and Environmental Protection",
        "--certificate",
        str(issued.certificate_path),
    )
    member = Member.objects.get(member_code="MINPRIRODY")
    assert member.name == "Ministry of Natural Resources and Environmental Protection"
    assert list(member.client_certificates.values_list("fingerprint", flat=True)) == [
        issued.fingerprint
    ]
    assert not folders["clients"].exists()


def _state(folders: dict[str, Path]) -> dict:
    return {
        "serial": configuration_serial(),
        "rows": [
            list(model.objects.order_by("pk").values())
            for model in (Member, Gateway, Subsystem, Service, AccessRight, ClientCertificate)
        ],
        "files": sorted(str(path) for path in folders["pki"].parent.rglob("*") if path.is_file()),
        "index": (folders["pki"] / "index.json").read_bytes(),
    }


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["subsystem", "add", "BY/GOV/NOBODY/crm"],
            "BY/GOV/NOBODY is not a registered member: add it with `egov exchange member add`.",
        ),
        (
            ["subsystem", "add", "BY/XYZ/NCES/crm"],
            "BY/XYZ/NCES/crm is not a client identifier (BY/GOV/MEMBER[/SUBSYSTEM]): 'XYZ' is "
            "not a member class (GOV, COM, NGO)",
        ),
        (
            ["member", "add", "BY/GOV/NCES/portal", "--name", "x"],
            "BY/GOV/NCES/portal names a subsystem: a member is BY/GOV/MEMBER.",
        ),
        (
            ["subsystem", "add", "BY/GOV/NCES/crm", "--gateway", "GW-NOWHERE"],
            "There is no gateway GW-NOWHERE: add it with `egov exchange gateway add`.",
        ),
        (
            [
                "subsystem",
                "add",
                "BY/GOV/NCES/crm",
                "--connection-type",
                "HTTP",
                "--issue-certificate",
            ],
            "A client certificate is for the connection type HTTPS; BY/GOV/NCES/crm connects "
            "over HTTP.",
        ),
        (
            [
                "gateway",
                "add",
                "GW-X",
                "--owner",
                "BY/GOV/NOBODY",
                "--client-listen",
                "127.0.0.1:1",
                "--client-tls-listen",
                "127.0.0.1:2",
                "--server-listen",
                "127.0.0.1:3",
            ],
            "BY/GOV/NOBODY is not a registered member: add it with `egov exchange member add`.",
        ),
        (
            [
                "gateway",
                "add",
                "GW-X",
                "--owner",
                "BY/GOV/NCES",
                "--client-listen",
                "everywhere",
                "--client-tls-listen",
                "127.0.0.1:2",
                "--server-listen",
                "127.0.0.1:3",
            ],
            "Some values are not valid: client_listen: Use host:port, e.g. 127.0.0.1:8080.",
        ),
        (
            ["gateway", "write-config", "GW-NOWHERE"],
            "There is no gateway GW-NOWHERE: add it with `egov exchange gateway add`.",
        ),
        (
            [
                "service",
                "add",
                "BY/GOV/NCES/crm/x",
                "--openapi",
                "/nonexistent.yaml",
                "--base-url",
                "http://127.0.0.1:1",
            ],
            "The OpenAPI description /nonexistent.yaml cannot be read: No such file or directory",
        ),
        (
            ["right", "grant", "BY/GOV/NCES", "BY/GOV/NCES/crm/x"],
            "BY/GOV/NCES/crm is not a registered subsystem: add it with `egov exchange "
            "subsystem add`.",
        ),
    ],
    ids=[
        "unknown-member",
        "bad-class",
        "member-with-subsystem",
        "unknown-gateway",
        "certificate-over-http",
        "gateway-of-unknown-owner",
        "bad-listen",
        "write-config-unknown",
        "openapi-missing",
        "unknown-service",
    ],
)
def test_errors_say_what_to_do_and_change_nothing(folders, nces, arguments, message):
    before = _state(folders)
    with pytest.raises(CommandError) as raised:
        exchange(*arguments)
    assert str(raised.value) == message
    assert _state(folders) == before


def test_a_right_to_personal_data_needs_a_complete_purpose(folders, nces):
    _join(folders)
    before = _state(folders)
    with pytest.raises(CommandError) as raised:
        exchange("right", "grant", "BY/GOV/NCES", LICENCE)
    assert str(raised.value) == (
        "Some values are not valid: purposes: BY/GOV/MINPRIRODY/hunting/licence holds "
        "personal data: give the right at least one purpose (a code, its text and its legal "
        "basis in Belarusian, Russian and English)."
    )
    with pytest.raises(CommandError) as raised:
        exchange("right", "grant", "BY/GOV/NCES", LICENCE, *PURPOSE[:-2])
    assert str(raised.value) == (
        "give --legal-basis-en once for each --purpose (1 purposes, 0 times --legal-basis-en)"
    )
    with pytest.raises(CommandError) as raised:
        exchange("right", "grant", "BY/GOV/NCES", LICENCE, "--endpoint", "GET", *PURPOSE)
    assert str(raised.value) == (
        "Give an endpoint as a method and a path, e.g. \"GET /persons/*\", not 'GET'."
    )
    with pytest.raises(CommandError) as raised:
        exchange("right", "grant", "BY/GOV/NCES", LICENCE, "--endpoint", "PUT /x", *PURPOSE)
    assert str(raised.value) == (
        "Some values are not valid: endpoints: PUT /x: the service has no such endpoint. It "
        "describes: GET /licences/*, POST /licences."
    )
    assert _state(folders) == before
    output = exchange("right", "grant", "BY/GOV/NCES", LICENCE, *PURPOSE)
    assert output == f"right BY/GOV/NCES → {LICENCE}: registry updated\n"
    assert exchange("right", "revoke", "BY/GOV/NCES", LICENCE) == (
        f"right BY/GOV/NCES → {LICENCE}: revoked\n"
    )
    assert exchange("right", "revoke", "BY/GOV/NCES", LICENCE) == (
        f"right BY/GOV/NCES → {LICENCE}: there was none\n"
    )


class _OpenApi(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = LICENCES.encode()
        self.send_response(200 if self.path == "/openapi.yaml" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


def test_service_add_fetches_the_description_from_a_url_with_a_timeout(folders, nces):
    exchange("subsystem", "add", "BY/GOV/NCES/crm")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OpenApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/openapi.yaml"
        exchange(
            "service",
            "add",
            "BY/GOV/NCES/crm/licence",
            "--openapi",
            url,
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--title",
            "Licences",
        )
        service = Service.objects.get(service_code="licence")
        assert (service.openapi, service.title) == (LICENCES, "Licences")
        before = _state(folders)
        with pytest.raises(CommandError) as raised:
            exchange(
                "service",
                "add",
                "BY/GOV/NCES/crm/other",
                "--openapi",
                f"http://127.0.0.1:{silent.getsockname()[1]}/openapi.yaml",
                "--base-url",
                "http://127.0.0.1:9/v1",
                "--timeout",
                "0.5",
            )
        assert str(raised.value).startswith(
            f"The OpenAPI description could not be fetched from http://127.0.0.1:"
            f"{silent.getsockname()[1]}/openapi.yaml: "
        )
        assert "timed out" in str(raised.value)
        with pytest.raises(CommandError) as raised:
            exchange(
                "service",
                "add",
                "BY/GOV/NCES/crm/other",
                "--openapi",
                url.replace("openapi.yaml", "missing"),
                "--base-url",
                "http://127.0.0.1:9/v1",
            )
        assert str(raised.value) == (
            f"The OpenAPI description could not be fetched from "
            f"{url.replace('openapi.yaml', 'missing')}: Not Found"
        )
        assert _state(folders) == before
    finally:
        server.shutdown()
        silent.close()


def test_list_shows_the_registry(folders, nces):
    _join(folders)
    lines = exchange("list").splitlines()
    assert lines[1:] == [
        "",
        "members",
        "  BY/GOV/MINPRIRODY  Ministry of Natural Resources  connection HTTPS  gateway -  "
        "certificates 0",
        "  BY/GOV/NCES  National Centre of Electronic Services  connection HTTPS  gateway -  "
        "certificates 0",
        "",
        "subsystems",
        f"  {HUNTING}  connection HTTPS  gateway GW-MINPRIRODY  certificates 1",
        "  BY/GOV/NCES/training  connection HTTP  gateway -  certificates 0",
        "",
        "gateways",
        "  GW-MINPRIRODY  owner BY/GOV/MINPRIRODY  address https://127.0.0.1:18445  client "
        "127.0.0.1:18082 / 127.0.0.1:18092  enabled",
        "",
        "services",
        f"  {LICENCE}  Hunting licence  personal data  backend http://127.0.0.1:19310/hunting/v1",
        "",
        "access rights",
        f"  BY/GOV/NCES/training → {LICENCE}  endpoints GET /licences/*  purposes training",
    ]
    assert lines[0] == f"configuration serial {configuration_serial()}"


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["member", "add"], "--issue-certificate"),
        (["subsystem", "add"], "--connection-type {HTTP,HTTPS_NO_AUTH,HTTPS}"),
        (["service", "add"], "--personal-data"),
        (["right", "grant"], "--legal-basis-ru TEXT"),
        (["right", "revoke"], "Withdraw a client's right to a service"),
        (["gateway", "add"], "--client-tls-listen HOST:PORT"),
        (["gateway", "write-config"], "Restart the gateway afterwards."),
        (["list"], "Members, subsystems, gateways, services and access rights."),
        (["setup"], "--provider-keys-dir"),
    ],
)
def test_every_subcommand_has_help(words, expected):
    parser = Command().create_parser("egov", "exchange")
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as raised:
        parser.parse_args([*words, "--help"])
    assert raised.value.code == 0
    text = " ".join(out.getvalue().split())
    assert " ".join(expected.split()) in text
    assert f"usage: egov exchange {' '.join(words)}" in text
