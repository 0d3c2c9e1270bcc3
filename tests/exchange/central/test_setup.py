from __future__ import annotations

import json
import stat
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.core.management import call_command
from django.core.management.base import CommandError

from egov.catalog.models import Agency
from egov.core.exchange_files import client_certificate_paths, provider_key_path
from egov.exchange.central.models import (
    AccessRight,
    ClientCertificate,
    Gateway,
    Member,
    Service,
    Subsystem,
)
from egov.exchange.central.publication import globalconf_signed
from egov.exchange.central.selectors import configuration_serial
from egov.exchange.central.setup import DEMO_DATA, demo_data, exchange_setup
from egov.exchange.globalconf import globalconf_verify
from egov.trust.pki import (
    certificate_revoke,
    certificates_list,
    fingerprint_sha256,
    load_certificate,
    load_private_key,
)
from tests.conftest import free_port

REGISTRY_SERVICES = [
    "BY/GOV/MINJUST/legal-entities/data-access-log",
    "BY/GOV/MINJUST/legal-entities/directed-by",
    "BY/GOV/MINJUST/legal-entities/entity",
    "BY/GOV/MINJUST/legal-entities/events",
    "BY/GOV/MVD/population/address-history",
    "BY/GOV/MVD/population/data-access-log",
    "BY/GOV/MVD/population/events",
    "BY/GOV/MVD/population/family",
    "BY/GOV/MVD/population/person",
    "BY/GOV/NKA/addresses/address",
]
CHECKS = [
    "BY/GOV/MINJUST/legal-entities/directed-by",
    "BY/GOV/MINJUST/legal-entities/entity",
    "BY/GOV/MVD/population/address-history",
    "BY/GOV/MVD/population/family",
    "BY/GOV/MVD/population/person",
    "BY/GOV/NKA/addresses/address",
]


BACKOFFICES = [
    f"BY/GOV/{code}/backoffice"
    for code in [
        "FSZN",
        "MGI",
        "MINJUST",
        "MINOBR",
        "MINSVYAZI",
        "MINTRUDA",
        "MINZDRAV",
        "MNS",
        "MVD",
        "NCES",
    ]
]
PROVIDERS = ["BY/GOV/MINJUST/legal-entities", "BY/GOV/MVD/population", "BY/GOV/NKA/addresses"]


def _setup(tmp_path: Path, ports: dict | None = None) -> None:
    exchange_setup(
        data=demo_data(),
        pki_dir=tmp_path / "pki",
        exchange_dir=tmp_path / "exchange",
        client_tls_dir=tmp_path / "clients",
        provider_keys_dir=tmp_path / "keys",
        registries_url="http://127.0.0.1:9001/",
        central_url="http://127.0.0.1:9000/exchange/globalconf",
        ports=ports,
        warn=lambda message: None,
    )


def _files(tmp_path: Path) -> dict[Path, bytes]:
    return {
        path: path.read_bytes()
        for folder in ("exchange", "clients", "keys")
        for path in (tmp_path / folder).rglob("*")
        if path.is_file()
    }


def _rows() -> dict[str, list]:
    return {
        "members": list(Member.objects.values_list("id", "member_class", "member_code", "name")),
        "gateways": list(Gateway.objects.values()),
        "subsystems": list(Subsystem.objects.values_list("id", "member", "code", "gateway")),
        "services": list(Service.objects.values()),
        "rights": list(AccessRight.objects.order_by("pk").values_list("id", "client", "service")),
    }


def test_setup_twice_creates_the_demo_exchange_once(registry, tmp_path):
    ports = {
        "GW-PORTAL": {"client": free_port(), "server": free_port()},
        "GW-REGISTRIES": {"client": free_port(), "server": f"127.0.0.1:{free_port()}"},
    }
    _setup(tmp_path, ports)
    rows, serial = _rows(), configuration_serial()
    index = (tmp_path / "pki" / "index.json").read_bytes()
    files = _files(tmp_path)
    _setup(tmp_path, ports)
    assert _rows() == rows
    assert configuration_serial() == serial
    assert (tmp_path / "pki" / "index.json").read_bytes() == index
    assert _files(tmp_path) == files
    assert len(files) == 2 + 3 + 2 * 11

    assert [entry["name"] for entry in certificates_list(directory=tmp_path / "pki")] == [
        "central-signing",
        "GW-PORTAL-tls",
        "GW-PORTAL-signing",
        "GW-REGISTRIES-tls",
        "GW-REGISTRIES-signing",
        *sorted(
            f"client-{quote(client, safe='')}" for client in [*BACKOFFICES, "BY/GOV/NCES/portal"]
        ),
        # The OCSP responder the gateways check their peers with, issued with their
        # configuration files.
        "ocsp",
    ]
    assert len(rows["members"]) == 11
    assert len(rows["subsystems"]) == 15
    assert sorted(str(service) for service in Service.objects.all()) == REGISTRY_SERVICES
    assert Gateway.objects.get(code="GW-PORTAL").address == (
        f"https://127.0.0.1:{ports['GW-PORTAL']['server']}"
    )
    assert Gateway.objects.get(code="GW-REGISTRIES").address == (
        f"https://{ports['GW-REGISTRIES']['server']}"
    )
    assert {
        str(subsystem): subsystem.gateway.code if subsystem.gateway else None
        for subsystem in Subsystem.objects.filter(code__in=["portal", "population"])
    } == {"BY/GOV/NCES/portal": "GW-PORTAL", "BY/GOV/MVD/population": "GW-REGISTRIES"}
    personal = set(
        Service.objects.filter(personal_data=True).values_list("service_code", flat=True)
    )
    assert personal == {
        "person",
        "family",
        "address-history",
        "events",
        "data-access-log",
        "directed-by",
        "entity",
    }
    assert not Service.objects.get(
        subsystem__code="legal-entities", service_code="events"
    ).personal_data


def test_setup_grants_the_demo_access_rights(registry, tmp_path):
    _setup(tmp_path)
    rights: dict[str, list[str]] = {}
    for right in AccessRight.objects.select_related("client__member", "service__subsystem__member"):
        rights.setdefault(str(right.client), []).append(str(right.service))
    assert sorted(rights.pop("BY/GOV/NCES/portal")) == REGISTRY_SERVICES
    assert sorted(rights.pop("BY/GOV/NCES/training")) == [
        "BY/GOV/MVD/population/person",
        "BY/GOV/NKA/addresses/address",
    ]
    assert sorted(rights.pop("BY/GOV/MINTRUDA/backoffice")) == sorted(
        [*CHECKS, "BY/GOV/MVD/population/events"]
    )
    assert {client: sorted(services) for client, services in rights.items()} == {
        f"BY/GOV/{code}/backoffice": CHECKS
        for code in [
            "MVD",
            "MINJUST",
            "MNS",
            "MGI",
            "MINOBR",
            "MINZDRAV",
            "MINSVYAZI",
            "NCES",
            "FSZN",
        ]
    }


def test_every_catalogue_agency_has_a_backoffice_subsystem():
    data = yaml.safe_load(DEMO_DATA.read_text())
    catalogue = yaml.safe_load(
        (
            Path(__file__).resolve().parents[3] / "src/egov/catalog/data/demo_catalogue.yaml"
        ).read_text()
    )
    agencies = {agency["code"] for agency in catalogue["agencies"]}
    backoffices = {
        member["code"]
        for member in data["members"]
        if any(subsystem["code"] == "backoffice" for subsystem in member["subsystems"])
    }
    assert backoffices == agencies


@pytest.mark.django_db
def test_every_seeded_agency_is_a_member(registry, tmp_path):
    _setup(tmp_path)
    codes = set(Agency.objects.values_list("code", flat=True))
    assert codes <= set(Member.objects.values_list("member_code", flat=True))


def test_gateway_files_name_existing_keys_and_certificates(registry, tmp_path):
    _setup(tmp_path, {"GW-PORTAL": {"client": 18080, "client_tls": 18090, "server": 18443}})
    pki = (tmp_path / "pki").resolve()
    exchange = (tmp_path / "exchange").resolve()
    keys = (tmp_path / "keys").resolve()
    portal = json.loads((exchange / "GW-PORTAL" / "gateway.json").read_text())
    registries = json.loads((exchange / "GW-REGISTRIES" / "gateway.json").read_text())
    assert portal == {
        "code": "GW-PORTAL",
        "instance": "BY",
        "client_listen": "127.0.0.1:18080",
        "client_tls_listen": "127.0.0.1:18090",
        "server_listen": "127.0.0.1:18443",
        "health_listen": "127.0.0.1:8085",
        "central_url": "http://127.0.0.1:9000/exchange/globalconf",
        "central_ca_file": "",
        "anchor": str(pki / "issued/central-signing.cert.pem"),
        "tls_key": str(pki / "issued/GW-PORTAL-tls.key.pem"),
        "tls_certificate": str(pki / "issued/GW-PORTAL-tls.cert.pem"),
        "signing_key": str(pki / "issued/GW-PORTAL-signing.key.pem"),
        "signing_certificate": str(pki / "issued/GW-PORTAL-signing.cert.pem"),
        "ca_certificates": [str(pki / "root.cert.pem"), str(pki / "issuing.cert.pem")],
        "services": {},
        "provider_credentials": {},
        "cache_file": str(exchange / "GW-PORTAL/globalconf.json"),
        "log_dir": str(exchange / "GW-PORTAL/messagelog"),
        "tsa_url": "http://127.0.0.1:9000/trust/tsa",
        "timestamp_interval": 10,
        "timestamp_grace": 600,
        "ocsp_url": "http://127.0.0.1:9000/trust/ocsp",
    }
    assert (
        registries["client_listen"],
        registries["client_tls_listen"],
        registries["server_listen"],
    ) == ("127.0.0.1:8081", "127.0.0.1:8091", "127.0.0.1:8444")
    assert registries["services"]["BY/GOV/MVD/population/person"] == (
        "http://127.0.0.1:9001/registries/population/v1/persons"
    )
    assert registries["services"]["BY/GOV/NKA/addresses/address"] == (
        "http://127.0.0.1:9001/registries/addresses/v1/addresses"
    )
    assert sorted(registries["services"]) == REGISTRY_SERVICES
    assert registries["provider_credentials"] == {
        provider: str(keys / f"{quote(provider, safe='')}.key") for provider in PROVIDERS
    }
    assert "service_key_file" not in registries
    for gateway in (portal, registries):
        for field in ("anchor", "tls_key", "tls_certificate", "signing_key", "signing_certificate"):
            assert Path(gateway[field]).is_file(), field
        for field in ("tls_key", "signing_key"):
            assert stat.S_IMODE(Path(gateway[field]).stat().st_mode) == 0o600
        assert all(Path(path).is_file() for path in gateway["ca_certificates"])
        assert Path(gateway["log_dir"]).is_dir()
        stored = Gateway.objects.get(code=gateway["code"])
        assert load_certificate(stored.tls_certificate) == load_certificate(
            Path(gateway["tls_certificate"])
        )
        assert load_certificate(stored.signing_certificate) == load_certificate(
            Path(gateway["signing_certificate"])
        )


def test_each_provider_has_its_own_key(registry, tmp_path):
    _setup(tmp_path)
    keys = {
        provider: provider_key_path(tmp_path / "keys", provider).read_text().strip()
        for provider in PROVIDERS
    }
    assert len(set(keys.values())) == 3
    assert all(len(key) == 43 for key in keys.values())
    for provider in PROVIDERS:
        path = provider_key_path(tmp_path / "keys", provider)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(path.name for path in (tmp_path / "keys").iterdir()) == sorted(
        f"{quote(provider, safe='')}.key" for provider in PROVIDERS
    )
    # a key in use is never replaced
    _setup(tmp_path)
    assert {
        provider: provider_key_path(tmp_path / "keys", provider).read_text().strip()
        for provider in PROVIDERS
    } == keys


def test_every_https_client_gets_a_registered_certificate_and_training_none(registry, tmp_path):
    _setup(tmp_path)
    clients = sorted([*BACKOFFICES, "BY/GOV/NCES/portal"])
    for client in clients:
        certificate, key = client_certificate_paths(tmp_path / "clients", client)
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert stat.S_IMODE(certificate.stat().st_mode) == 0o644
        issued = load_certificate(certificate)
        assert issued.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == client
        usages = issued.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert list(usages) == [ExtendedKeyUsageOID.CLIENT_AUTH]
        assert load_private_key(key).public_key() == issued.public_key()
        subsystem = Subsystem.objects.get(
            member__member_code=client.split("/")[2], code=client.split("/")[3]
        )
        assert subsystem.connection_type == "HTTPS"
        assert list(subsystem.client_certificates.values_list("fingerprint", flat=True)) == [
            fingerprint_sha256(issued)
        ]
    assert sorted(path.name for path in (tmp_path / "clients").iterdir()) == sorted(
        name
        for client in clients
        for name in (f"{quote(client, safe='')}.cert.pem", f"{quote(client, safe='')}.key.pem")
    )
    training = Subsystem.objects.get(member__member_code="NCES", code="training")
    assert (training.connection_type, training.gateway.code) == ("HTTP", "GW-PORTAL")
    assert not training.client_certificates.exists()
    assert not ClientCertificate.objects.filter(subsystem__code__in=["population", "addresses"])


def test_the_training_subsystem_reads_over_http_for_training(registry, tmp_path):
    _setup(tmp_path)
    rights = {
        str(right.service): right
        for right in AccessRight.objects.filter(client__code="training").select_related(
            "service__subsystem__member"
        )
    }
    assert sorted(rights) == ["BY/GOV/MVD/population/person", "BY/GOV/NKA/addresses/address"]
    assert rights["BY/GOV/MVD/population/person"].endpoints == [{"method": "GET", "path": "/*"}]
    assert rights["BY/GOV/NKA/addresses/address"].endpoints == [
        {"method": "GET", "path": "/*"},
        {"method": "GET", "path": "/"},
    ]
    for right in rights.values():
        assert [purpose.as_published() for purpose in right.purposes.all()] == [
            {
                "code": "training",
                "text": {
                    "be": "Навучанне дзяржаўных служачых працы з абменам на дэманстрацыйных даных",
                    "ru": "Обучение государственных служащих работе с обменом на "
                    "демонстрационных данных",
                    "en": "Teaching civil servants the exchange on demo data",
                },
                "legal_basis": {
                    "be": "Закон Рэспублікі Беларусь ад 10 лістапада 2008 г. № 455-З «Аб "
                    "інфармацыі, інфарматызацыі і ахове інфармацыі»",
                    "ru": "Закон Республики Беларусь от 10 ноября 2008 г. № 455-З «Об "
                    "информации, информатизации и защите информации»",
                    "en": 'Law of the Republic of Belarus No. 455-Z of 10 November 2008 "On '
                    'Information, Informatization and Protection of Information"',
                },
            }
        ]


def test_every_demo_right_declares_the_adr_purposes(registry, tmp_path):
    _setup(tmp_path)
    codes: dict[str, set[str]] = {}
    for right in AccessRight.objects.select_related("client__member", "service__subsystem__member"):
        purposes = list(right.purposes.all())
        assert purposes, str(right)
        for purpose in purposes:
            published = purpose.as_published()
            assert all(published["text"].values()), str(right)
            assert all(published["legal_basis"].values()), str(right)
            assert "99-З" in purpose.legal_basis_ru or "455-З" in purpose.legal_basis_ru
        codes.setdefault(str(right.client), set()).update(purpose.code for purpose in purposes)
    assert codes.pop("BY/GOV/NCES/portal") == {"prefill", "own-data", "representation", "proactive"}
    assert codes.pop("BY/GOV/NCES/training") == {"training"}
    assert codes.pop("BY/GOV/MINTRUDA/backoffice") == {"check", "proactive"}
    assert codes == {client: {"check"} for client in BACKOFFICES if "MINTRUDA" not in client}
    person = AccessRight.objects.get(client__code="portal", service__service_code="person")
    assert list(person.purposes.values_list("code", flat=True)) == ["prefill", "own-data"]
    assert person.purposes.get(code="prefill").legal_basis_en == (
        'Law of the Republic of Belarus No. 433-Z of 28 October 2008 "On the Basics of '
        'Administrative Procedures"; Law of the Republic of Belarus No. 99-Z of 7 May 2021 "On '
        'Personal Data Protection", article 6'
    )


def test_a_revoked_client_certificate_is_replaced_on_the_next_setup(registry, tmp_path):
    _setup(tmp_path)
    certificate, key = client_certificate_paths(tmp_path / "clients", "BY/GOV/NCES/portal")
    old = load_certificate(certificate)
    certificate_revoke(directory=tmp_path / "pki", serial=old.serial_number, reason="superseded")
    serial = configuration_serial()
    _setup(tmp_path)
    new = load_certificate(certificate)
    assert new.serial_number != old.serial_number
    assert load_private_key(key).public_key() == new.public_key()
    portal = Subsystem.objects.get(member__member_code="NCES", code="portal")
    assert sorted(portal.client_certificates.values_list("fingerprint", flat=True)) == sorted(
        [fingerprint_sha256(old), fingerprint_sha256(new)]
    )
    assert configuration_serial() == serial + 1


def test_the_published_configuration_verifies_with_the_gateway_anchor(registry, settings, tmp_path):
    settings.PKI_DIR = tmp_path / "pki"
    _setup(tmp_path)
    gateway = json.loads((tmp_path / "exchange" / "GW-PORTAL" / "gateway.json").read_text())
    content = globalconf_verify(globalconf_signed(), Path(gateway["anchor"]).read_bytes())
    assert content["serial"] == configuration_serial()
    assert {item["code"] for item in content["gateways"]} == {"GW-PORTAL", "GW-REGISTRIES"}
    assert len(content["access_rights"]) == 10 + 10 * 6 + 1 + 2
    assert content["format"] == 2
    subsystems = {item["id"]: item for item in content["subsystems"]}
    assert subsystems["BY/GOV/NCES/training"]["connection_type"] == "HTTP"
    assert len(subsystems["BY/GOV/NCES/portal"]["client_certificates"]) == 1
    assert all("openapi" in yaml.safe_load(service["openapi"]) for service in content["services"])


def test_a_revoked_gateway_certificate_is_replaced_on_the_next_setup(registry, tmp_path):
    _setup(tmp_path)
    old = Gateway.objects.get(code="GW-PORTAL").tls_certificate
    serial = configuration_serial()
    certificate_revoke(
        directory=tmp_path / "pki", serial=load_certificate(old).serial_number, reason="superseded"
    )
    _setup(tmp_path)
    new = Gateway.objects.get(code="GW-PORTAL").tls_certificate
    assert new != old
    assert configuration_serial() == serial + 1


def test_missing_openapi_files_get_a_minimal_description_and_a_warning(
    registry, settings, tmp_path
):
    package = tmp_path / "package"
    (package / "registries/population/openapi").mkdir(parents=True)
    described = "openapi: 3.1.0\ninfo: {title: Person, version: '1'}\npaths: {}\n"
    (package / "registries/population/openapi/person.yaml").write_text(described)
    settings.PACKAGE_DIR = package
    warnings: list[str] = []
    exchange_setup(
        data=demo_data(),
        pki_dir=tmp_path / "pki",
        exchange_dir=tmp_path / "exchange",
        client_tls_dir=tmp_path / "clients",
        provider_keys_dir=tmp_path / "keys",
        registries_url="http://127.0.0.1:8001",
        central_url="http://127.0.0.1:8000/exchange/globalconf",
        ports=None,
        warn=warnings.append,
    )
    assert Service.objects.get(service_code="person").openapi == described
    family = yaml.safe_load(Service.objects.get(service_code="family").openapi)
    assert family == {
        "openapi": "3.1.0",
        "info": {"title": "Family ties", "version": "1"},
        "paths": {},
    }
    assert len(warnings) == 9
    assert all("is missing" in warning for warning in warnings)


def test_a_description_with_an_unknown_gateway_changes_nothing(registry, tmp_path):
    data = demo_data()
    data["members"][0]["subsystems"][0]["gateway"] = "GW-NOWHERE"
    serial = configuration_serial()
    with pytest.raises(Exception, match="GW-NOWHERE"):
        exchange_setup(
            data=data,
            pki_dir=tmp_path / "pki",
            exchange_dir=tmp_path / "exchange",
            client_tls_dir=tmp_path / "clients",
            provider_keys_dir=tmp_path / "keys",
            registries_url="http://127.0.0.1:8001",
            central_url="http://127.0.0.1:8000/exchange/globalconf",
            ports=None,
        )
    assert (Member.objects.count(), configuration_serial()) == (0, serial)
    for folder in ("exchange", "clients", "keys"):
        assert not (tmp_path / folder).exists()


def test_command_sets_up_from_settings_and_options(registry, settings, tmp_path):
    settings.DEMO_MODE = True  # the demo's description, registries and central registry
    out, err = StringIO(), StringIO()
    ports = json.dumps({"GW-REGISTRIES": {"client": 28081, "client_tls": 28091, "server": 28444}})
    call_command(
        "exchange",
        "setup",
        "--ports",
        ports,
        "--registries-url",
        "http://10.0.0.2:8001",
        stdout=out,
        stderr=err,
    )
    gateway_file = Path(settings.EXCHANGE_DIR).resolve() / "GW-REGISTRIES" / "gateway.json"
    gateway = json.loads(gateway_file.read_text())
    assert (gateway["client_tls_listen"], gateway["server_listen"]) == (
        "127.0.0.1:28091",
        "127.0.0.1:28444",
    )
    assert gateway["provider_credentials"]["BY/GOV/MVD/population"] == str(
        provider_key_path(
            Path(settings.EXCHANGE_PROVIDER_KEYS_DIR).resolve(), "BY/GOV/MVD/population"
        )
    )
    for path in client_certificate_paths(settings.EXCHANGE_CLIENT_TLS_DIR, "BY/GOV/NCES/portal"):
        assert path.is_file()
    assert gateway["central_url"] == "http://127.0.0.1:8000/exchange/globalconf"
    assert gateway["services"]["BY/GOV/MVD/population/person"].startswith("http://10.0.0.2:8001/")
    assert gateway["anchor"] == str(
        Path(settings.PKI_DIR).resolve() / "issued/central-signing.cert.pem"
    )
    assert out.getvalue().splitlines()[-1] == "exchange ready"
    assert str(gateway_file) in out.getvalue()
    with pytest.raises(CommandError, match="--ports"):
        call_command("exchange", "setup", "--ports", "{", stdout=out)


def test_command_reads_another_description(registry, tmp_path):
    description = tmp_path / "small.yaml"
    description.write_text(
        yaml.safe_dump(
            {
                "instance": "BY",
                "member_classes": [{"code": "GOV", "description": "Government"}],
                "gateways": [
                    {
                        "code": "GW-ONE",
                        "owner": "ONE",
                        "client_listen": "127.0.0.1:1",
                        "client_tls_listen": "127.0.0.1:3",
                        "server_listen": "127.0.0.1:2",
                    }
                ],
                "members": [
                    {
                        "code": "ONE",
                        "class": "GOV",
                        "name": "One",
                        "subsystems": [{"code": "a", "gateway": "GW-ONE"}],
                    }
                ],
            }
        )
    )
    call_command(
        "exchange",
        "setup",
        "--file",
        str(description),
        "--central-url",
        "https://central.example.by",
        "--pki-dir",
        str(tmp_path / "p"),
        "--exchange-dir",
        str(tmp_path / "x"),
        "--client-tls-dir",
        str(tmp_path / "c"),
        "--provider-keys-dir",
        str(tmp_path / "k"),
        stdout=StringIO(),
    )
    assert [str(subsystem) for subsystem in Subsystem.objects.all()] == ["BY/GOV/ONE/a"]
    gateway = json.loads((tmp_path / "x" / "GW-ONE" / "gateway.json").read_text())
    assert (gateway["client_tls_listen"], gateway["provider_credentials"]) == ("127.0.0.1:3", {})
    assert gateway["central_url"] == "https://central.example.by/exchange/globalconf"
    assert (tmp_path / "p" / "issued" / "GW-ONE-tls.key.pem").is_file()
