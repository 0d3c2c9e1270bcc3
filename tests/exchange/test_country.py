"""A country that is not Belarus: instance KZ, member classes GOV and BUS, a population register
and no legal entities register, set up by `egov exchange setup --file` from its description
(tests/exchange/data/country.yaml) and called through two real gateways, the real central
registry and the real population register, with the new instance's identifiers throughout."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import urllib3
from django.core.management import call_command
from django.core.management.base import CommandError

from egov.cases import registry_data
from egov.exchange.central.models import Gateway as GatewayEntry
from egov.exchange.central.models import Instance, Member, MemberClass
from egov.exchange.central.publication import globalconf_build
from egov.exchange.central.services import gateway_save
from egov.exchange.client import (
    ExchangeUnavailable,
    exchange_call,
    exchange_get_json,
    registry_service,
    user_id_for,
)
from egov.exchange.gateway.conf import GatewaySettings
from egov.exchange.gateway.server import Gateway
from egov.identity.services import representations_refresh
from tests.exchange.harness import Running
from tests.factories import UserFactory

DESCRIPTION = Path(__file__).resolve().parent / "data" / "country.yaml"
CITIZEN = "4150592M012PB5"
PORTAL = "KZ/GOV/EGOV/portal"
POPULATION = "KZ/GOV/MIA/population"
PERSON = f"{POPULATION}/person"
BANK = "KZ/BUS/STEPPEBANK/kyc"
GATEWAYS = ("GW-DATA", "GW-CENTRAL")


@pytest.fixture
def country(live_server, settings, tmp_path: Path, transactional_db) -> Iterator[Running]:  # type: ignore[no-untyped-def]
    settings.DEMO_MODE = False
    settings.ROOT_URLCONF = "tests.exchange.urls_all"
    settings.PKI_DIR = tmp_path / "pki"
    settings.EXCHANGE_DIR = tmp_path / "exchange"
    settings.EXCHANGE_CLIENT_TLS_DIR = tmp_path / "exchange" / "clients"
    settings.EXCHANGE_PROVIDER_KEYS_DIR = tmp_path / "exchange" / "provider-keys"
    settings.EXCHANGE_CA_FILE = ""
    settings.CENTRAL_URL = ""
    settings.CENTRAL_CA_FILE = ""
    # The country's configuration: its portal's client, its registers (none of legal entities).
    settings.EXCHANGE_CLIENT = PORTAL
    settings.REGISTRY_PROVIDERS = {
        "population": POPULATION,
        "legal_entities": "",
        "addresses": "",
    }
    zero = dict.fromkeys(("client", "client_tls", "server", "health"), "127.0.0.1:0")
    call_command(
        "exchange",
        "setup",
        "--file",
        str(DESCRIPTION),
        "--registries-url",
        live_server.url,
        "--central-url",
        live_server.url,  # the base address: /exchange/globalconf is appended
        "--ports",
        json.dumps(dict.fromkeys(GATEWAYS, zero)),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    call_command("registry", "generate", persons=20, companies=0, demo_people=True, verbosity=0)
    running = Running()
    try:
        for code in GATEWAYS:
            gateway = Gateway(GatewaySettings.load(settings.EXCHANGE_DIR / code / "gateway.json"))
            running.run(gateway.start())
            running.gateways[code] = gateway
            entry = GatewayEntry.objects.get(code=code)
            entry.address = f"https://127.0.0.1:{gateway.bound['server']}"
            gateway_save(gateway=entry)
        for gateway in running.gateways.values():
            running.run(gateway.refresh())
            assert gateway.conf.usable() is not None, gateway.conf.last_error
        settings.EXCHANGE_GATEWAY_URL = (
            f"https://127.0.0.1:{running.gateways['GW-CENTRAL'].bound['client_tls']}"
        )
        yield running
    finally:
        running.stop()


def _plain(running: Running, path: str, client: str) -> urllib3.BaseHTTPResponse:
    """A call on GW-CENTRAL's plain HTTP client side (connection type HTTP)."""
    return urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(10)).request(
        "GET", running.plain_url("GW-CENTRAL") + path, headers={"X-Road-Client": client}
    )


def test_the_registry_serves_the_described_instance_and_classes(
    country, settings, live_server
) -> None:
    assert list(Instance.objects.values_list("code", flat=True)) == ["KZ"]
    assert list(MemberClass.objects.values_list("code", "description")) == [
        ("GOV", "Government agencies"),
        ("BUS", "Businesses"),
    ]
    assert sorted(str(member) for member in Member.objects.all()) == [
        "KZ/BUS/STEPPEBANK",
        "KZ/GOV/EGOV",
        "KZ/GOV/MIA",
    ]
    content = globalconf_build()
    assert content["instance"] == "KZ"
    assert {item["id"] for item in content["services"]} == {PERSON, f"{POPULATION}/data-access-log"}
    for code in GATEWAYS:
        written = json.loads((settings.EXCHANGE_DIR / code / "gateway.json").read_text())
        assert written["instance"] == "KZ"
        assert written["central_url"] == f"{live_server.url}/exchange/globalconf"
        assert written["health_listen"] == "127.0.0.1:0"
        assert country.gateways[code].conf.current.content["instance"] == "KZ"  # type: ignore[union-attr]


def test_the_portal_reads_the_register_through_both_gateways_with_kz_identifiers(country) -> None:
    citizen = UserFactory(personal_number=CITIZEN)
    service = registry_service("population", "person")
    person = exchange_get_json(
        service=service, path=CITIZEN, user_id=user_id_for(citizen), purpose="prefill"
    )
    log = exchange_get_json(
        service=registry_service("population", "data-access-log"),
        path=CITIZEN,
        user_id=user_id_for(citizen),
        purpose="own-data",
    )

    assert service == PERSON
    assert person["personal_number"] == CITIZEN
    latest = log["accesses"][0]
    assert (latest["client"], latest["member"], latest["service"]) == (PORTAL, "EGOV", "person")
    assert latest["user_id"] == f"KZ{CITIZEN}"
    assert [purpose["code"] for purpose in latest["purposes"]] == ["prefill"]
    assert "Kazakhstan" in latest["purposes"][0]["legal_basis"]["en"]


def test_a_member_of_the_countrys_own_class_calls_over_plain_http(country) -> None:
    answer = _plain(country, f"/r1/{PERSON}/{CITIZEN}", BANK)

    assert answer.status == 200, answer.data
    assert answer.headers["X-Road-Client"] == BANK
    assert json.loads(answer.data)["personal_number"] == CITIZEN


def test_belarus_identifiers_are_refused_by_the_countrys_gateways(country) -> None:
    by_client = _plain(country, f"/r1/{PERSON}/{CITIZEN}", "BY/GOV/NCES/training")
    by_service = _plain(country, f"/r1/BY/GOV/MVD/population/person/{CITIZEN}", BANK)
    listed = urllib3.request(
        "GET",
        country.plain_url("GW-CENTRAL") + "/listClients",
        headers={"Accept": "application/json"},
    )

    assert (by_client.status, by_client.headers["X-Road-Error"]) == (
        500,
        "Server.ClientProxy.UnknownMember",
    )
    assert (by_service.status, by_service.headers["X-Road-Error"]) == (
        500,
        "Server.ClientProxy.UnknownService",
    )
    instances = {item["id"]["xroad_instance"] for item in json.loads(listed.data)["member"]}
    classes = {item["id"]["member_class"] for item in json.loads(listed.data)["member"]}
    assert (instances, classes) == ({"KZ"}, {"GOV", "BUS"})
    with pytest.raises(ExchangeUnavailable) as refused:
        exchange_call(service="BY/GOV/MVD/population/person", path=CITIZEN, purpose="prefill")
    assert refused.value.code == "Server.ClientProxy.UnknownService"


def test_the_central_registry_refuses_identifiers_of_another_instance(country) -> None:
    with pytest.raises(CommandError) as refused:
        call_command("exchange", "member", "add", "BY/GOV/MINPRIRODY", "--name", "X")
    with pytest.raises(CommandError) as unknown_class:
        call_command("exchange", "member", "add", "KZ/COM/ACME", "--name", "Acme")

    assert str(refused.value) == (
        "BY/GOV/MINPRIRODY names the instance BY; this central registry serves KZ."
    )
    assert "'COM' is not a member class (GOV, BUS)" in str(unknown_class.value)
    assert "(KZ/GOV/MEMBER[/SUBSYSTEM])" in str(unknown_class.value)
    assert not Member.objects.filter(member_code__in=["MINPRIRODY", "ACME"]).exists()


def test_the_instance_cannot_change_under_the_members(country, settings) -> None:
    belarus = Path(registry_data.__file__).parents[1] / "exchange/central/data/demo_exchange.yaml"
    with pytest.raises(CommandError, match="serves the instance KZ; the description is for BY"):
        call_command(
            "exchange",
            "setup",
            "--file",
            str(belarus),
            "--registries-url",
            "http://127.0.0.1:1",
            "--central-url",
            "http://127.0.0.1:1",
            stdout=io.StringIO(),
        )
    assert not Member.objects.filter(instance="BY").exists()
    assert list(Instance.objects.values_list("code", flat=True)) == ["KZ"]


def test_the_portal_asks_only_the_registers_the_country_has(country) -> None:
    citizen = UserFactory(personal_number=CITIZEN, kind="business")
    exchange_get_json(service=PERSON, path=CITIZEN, user_id=user_id_for(citizen), purpose="prefill")

    accesses, missing = registry_data.data_accesses_of(actor=citizen, identity_proven=True)

    assert missing == []
    assert accesses and {access.registry for access in accesses} == {"Population register"}
    assert {access.client for access in accesses} == {PORTAL}
    assert representations_refresh(user=citizen) == {"added": 0, "kept": 0, "ended": 0}
