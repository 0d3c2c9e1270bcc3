"""The platform's exchange client on the gateway's TLS client side (ADR 0008, connection type
HTTPS): each call presents the certificate of the subsystem it speaks for, checks the
gateway's certificate against the platform CA, and keeps one pool of connections per
certificate; a plain ``http://`` gateway URL presents none."""

from __future__ import annotations

import shutil
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from egov.core.exchange_files import client_certificate_paths
from egov.exchange.client import ExchangeUnavailable, exchange_get_json
from egov.trust.pki import certificate_issue, pki_init, tls_key_password
from tests.ports import free_port
from tests.registrydata.stub import PERSON_SERVICE, ExchangeStub, person

PORTAL = "BY/GOV/NCES/portal"
BACKOFFICE = "BY/GOV/MVD/backoffice"
CITIZEN = "4150592M012PB5"


class Pki:
    def __init__(self, directory: Path, clients_dir: Path) -> None:
        self.directory = directory
        self.clients_dir = clients_dir
        pki_init(directory=directory)
        self.gateway = certificate_issue(
            directory=directory,
            profile="gateway-tls",
            common_name="GW-PORTAL",
            ip_addresses=("127.0.0.1",),
            name="gw-portal-tls",
        )
        self.fingerprints: dict[str, str] = {}
        for client in (PORTAL, BACKOFFICE):
            self.client(client)

    def client(self, client: str, name: str = "") -> str:
        issued = certificate_issue(
            directory=self.directory,
            profile="information-system",
            common_name=client,
            name=name or client.replace("/", "-"),
        )
        self.clients_dir.mkdir(parents=True, exist_ok=True)
        certificate, key = client_certificate_paths(self.clients_dir, client)
        shutil.copyfile(issued.certificate_path, certificate)
        shutil.copyfile(issued.key_path, key)
        self.fingerprints[client] = issued.fingerprint
        return issued.fingerprint

    def server_context(self, chain: Path | None = None, key: Path | None = None) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(
            chain or self.gateway.chain_path,
            key or self.gateway.key_path,
            password=tls_key_password,
        )
        context.verify_mode = ssl.CERT_OPTIONAL
        context.load_verify_locations(self.directory / "root.cert.pem")
        context.load_verify_locations(self.directory / "issuing.cert.pem")
        return context


@pytest.fixture
def pki(settings, tmp_path: Path) -> Pki:  # type: ignore[no-untyped-def]
    settings.PKI_DIR = tmp_path / "pki"
    settings.EXCHANGE_CLIENT_TLS_DIR = tmp_path / "clients"
    settings.EXCHANGE_CA_FILE = ""
    return Pki(settings.PKI_DIR, settings.EXCHANGE_CLIENT_TLS_DIR)


@pytest.fixture
def tls_gateway(settings, pki: Pki) -> Iterator[ExchangeStub]:  # type: ignore[no-untyped-def]
    stub = ExchangeStub(port=free_port(), tls=pki.server_context())
    stub.start()
    stub.answer(PERSON_SERVICE, CITIZEN, person(CITIZEN))
    settings.EXCHANGE_GATEWAY_URL = stub.url
    settings.EXCHANGE_TIMEOUT = 2
    yield stub
    stub.stop()


def _read(client: str | None = None) -> dict:
    arguments = {"client": client} if client else {}
    return exchange_get_json(
        service=PERSON_SERVICE, path=CITIZEN, user_id=f"BY{CITIZEN}", purpose="check", **arguments
    )


def test_each_call_presents_the_certificate_of_the_subsystem_it_speaks_for(pki, tls_gateway):
    assert tls_gateway.url.startswith("https://127.0.0.1:")
    assert _read()["personal_number"] == CITIZEN
    assert _read(BACKOFFICE)["personal_number"] == CITIZEN
    assert [(r.headers["X-Road-Client"], r.client_certificate) for r in tls_gateway.received] == [
        (PORTAL, pki.fingerprints[PORTAL]),
        (BACKOFFICE, pki.fingerprints[BACKOFFICE]),
    ]


def test_one_keep_alive_pool_per_certificate(pki, tls_gateway):
    for client in (PORTAL, BACKOFFICE, PORTAL, BACKOFFICE, PORTAL):
        _read(client)
    connections: dict[str, set[int]] = {}
    for received in tls_gateway.received:
        connections.setdefault(received.client_certificate, set()).add(received.client_port)
    assert set(connections) == {pki.fingerprints[PORTAL], pki.fingerprints[BACKOFFICE]}
    # Each subsystem reused its own connection, and no connection carried both.
    assert [len(ports) for ports in connections.values()] == [1, 1]
    assert connections[pki.fingerprints[PORTAL]].isdisjoint(
        connections[pki.fingerprints[BACKOFFICE]]
    )


def test_a_gateway_certificate_from_another_ca_is_refused_before_anything_is_sent(
    settings, pki, tmp_path
):
    other = tmp_path / "other-pki"
    pki_init(directory=other)
    impostor = certificate_issue(
        directory=other,
        profile="gateway-tls",
        common_name="GW-PORTAL",
        ip_addresses=("127.0.0.1",),
        name="impostor",
    )
    stub = ExchangeStub(
        port=free_port(), tls=pki.server_context(impostor.chain_path, impostor.key_path)
    )
    stub.start()
    settings.EXCHANGE_GATEWAY_URL = stub.url
    try:
        with pytest.raises(ExchangeUnavailable) as refused:
            _read()
    finally:
        stub.stop()
    assert refused.value.code == "unreachable"
    assert "CERTIFICATE_VERIFY_FAILED" in refused.value.detail
    assert stub.received == []


def test_a_gateway_certificate_for_another_address_is_refused(settings, pki):
    elsewhere = certificate_issue(
        directory=pki.directory,
        profile="gateway-tls",
        common_name="GW-ELSEWHERE",
        ip_addresses=("10.1.2.3",),
        name="elsewhere",
    )
    stub = ExchangeStub(
        port=free_port(), tls=pki.server_context(elsewhere.chain_path, elsewhere.key_path)
    )
    stub.start()
    settings.EXCHANGE_GATEWAY_URL = stub.url
    try:
        with pytest.raises(ExchangeUnavailable) as refused:
            _read()
    finally:
        stub.stop()
    assert refused.value.code == "unreachable"
    assert stub.received == []


def test_a_subsystem_without_a_certificate_sends_nothing(pki, tls_gateway):
    with pytest.raises(ExchangeUnavailable) as missing:
        _read("BY/GOV/MINTRUDA/backoffice")
    assert missing.value.code == "client_certificate_missing"
    assert "BY%2FGOV%2FMINTRUDA%2Fbackoffice.cert.pem" in missing.value.detail
    assert tls_gateway.received == []


def test_the_ca_file_setting_replaces_the_pki_default(settings, pki, tls_gateway, tmp_path):
    elsewhere = tmp_path / "unrelated-ca"
    pki_init(directory=elsewhere)
    settings.EXCHANGE_CA_FILE = str(elsewhere / "root.cert.pem")
    with pytest.raises(ExchangeUnavailable) as refused:
        _read()
    assert refused.value.code == "unreachable"
    bundle = tmp_path / "bundle.pem"
    bundle.write_text((pki.directory / "root.cert.pem").read_text())
    settings.EXCHANGE_CA_FILE = str(bundle)
    assert _read()["personal_number"] == CITIZEN
    assert len(tls_gateway.received) == 1


def test_a_renewed_certificate_is_presented_without_a_restart(pki, tls_gateway):
    _read()
    renewed = pki.client(PORTAL, name="portal-renewed")
    _read()
    assert [r.client_certificate for r in tls_gateway.received] == [
        tls_gateway.received[0].client_certificate,
        renewed,
    ]
    assert tls_gateway.received[0].client_certificate != renewed


def test_plain_http_presents_no_certificate(pki, exchange):
    exchange.answer(PERSON_SERVICE, CITIZEN, person(CITIZEN))
    assert exchange.url.startswith("http://")
    assert _read()["personal_number"] == CITIZEN
    assert [r.client_certificate for r in exchange.received] == [""]


def test_the_default_gateway_url_is_the_tls_client_side_of_the_demo():
    from egov import settings as defaults

    assert defaults.EXCHANGE_GATEWAY_URL == "https://127.0.0.1:8090"
    assert defaults.EXCHANGE_CA_FILE == ""
