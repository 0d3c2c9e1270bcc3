"""The whole exchange as the demo runs it: the central registry's real global configuration,
the real registries' services, two gateways set up by ``exchange_setup`` from the demo's
description, and the platform's exchange client on top."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
import urllib3
from django.core.management import call_command

from egov.core.exchange_files import client_certificate_paths
from egov.exchange.central.models import Gateway as GatewayEntry
from egov.exchange.central.services import gateway_save
from egov.exchange.central.setup import demo_data, exchange_setup
from egov.exchange.client import (
    ExchangeRefused,
    ExchangeUnavailable,
    exchange_call,
    exchange_get_json,
)
from egov.exchange.gateway.conf import GatewaySettings
from egov.exchange.gateway.messagelog import verify_log
from egov.exchange.gateway.server import Gateway
from egov.identity.models import User
from tests.exchange.harness import Running
from tests.factories import UserFactory, login

CITIZEN = "4150592M012PB5"
PERSONAL = {"user_id": f"BY{CITIZEN}", "purpose": "prefill", "issue": "200.13.1"}
OWN_DATA = {"user_id": f"BY{CITIZEN}", "purpose": "own-data"}


def _demo_purpose(code: str) -> dict[str, Any]:
    """A purpose as the demo's description declares it and the registers record it."""
    data = demo_data()["purposes"][code]
    return {"code": code, "text": data["text"], "legal_basis": data["legal_basis"]}


@pytest.fixture
def exchange(live_server, settings, tmp_path: Path, transactional_db) -> Iterator[Running]:  # type: ignore[no-untyped-def]
    settings.ROOT_URLCONF = "tests.exchange.urls_all"
    settings.PKI_DIR = tmp_path / "pki"
    settings.EXCHANGE_DIR = tmp_path / "exchange"
    settings.EXCHANGE_CLIENT_TLS_DIR = tmp_path / "exchange" / "clients"
    settings.EXCHANGE_PROVIDER_KEYS_DIR = tmp_path / "exchange" / "provider-keys"
    settings.EXCHANGE_CA_FILE = ""
    zero = {"client": "127.0.0.1:0", "client_tls": "127.0.0.1:0", "server": "127.0.0.1:0"}
    exchange_setup(
        data=demo_data(),
        pki_dir=settings.PKI_DIR,
        exchange_dir=settings.EXCHANGE_DIR,
        registries_url=live_server.url,
        central_url=f"{live_server.url}/exchange/globalconf",
        ports={"GW-PORTAL": zero, "GW-REGISTRIES": zero},
    )
    call_command("registry", "generate", persons=40, companies=4, demo_people=True, verbosity=0)
    running = Running()
    for code in ("GW-REGISTRIES", "GW-PORTAL"):
        gateway = Gateway(GatewaySettings.load(settings.EXCHANGE_DIR / code / "gateway.json"))
        running.run(gateway.start())
        running.gateways[code] = gateway
        entry = GatewayEntry.objects.get(code=code)
        entry.address = f"https://127.0.0.1:{gateway.bound['server']}"
        gateway_save(gateway=entry)
    for gateway in running.gateways.values():
        running.run(gateway.refresh())
        assert gateway.conf.usable() is not None, gateway.conf.last_error
    # The platform's client, as in the demo: the TLS client side, a certificate per subsystem.
    settings.EXCHANGE_GATEWAY_URL = (
        f"https://127.0.0.1:{running.gateways['GW-PORTAL'].bound['client_tls']}"
    )
    yield running
    running.stop()


def test_portal_reads_a_person_through_both_gateways(exchange: Running) -> None:
    person = exchange_get_json(service="BY/GOV/MVD/population/person", path=CITIZEN, **PERSONAL)

    assert person["personal_number"] == CITIZEN
    assert person["last_name"]["be"] == "Каваленка"
    assert person["first_name"]["be"] == "Алена"
    assert person["status"] == "alive"


def _provider_request_id(exchange: Running, message_id: str) -> str:
    """The request id the registries' gateway logged (and signed) for a message."""
    gateway = exchange.gateways["GW-REGISTRIES"]
    gateway.log.seal()
    gateway.log._file.flush()
    rows = [json.loads(line) for line in gateway.log.path.read_text().splitlines()]
    (row,) = [
        row for row in rows if row["kind"] == "request" and row.get("message_id") == message_id
    ]
    assert row["request_id"]
    return str(row["request_id"])


def test_the_access_is_recorded_with_the_request_id_the_provider_gateway_logged(
    exchange: Running,
) -> None:
    answer = exchange_call(service="BY/GOV/MVD/population/person", path=CITIZEN, **PERSONAL)
    log = exchange_get_json(
        service="BY/GOV/MVD/population/data-access-log", path=CITIZEN, **OWN_DATA
    )

    assert answer.status == 200
    latest = log["accesses"][0]
    assert latest["message_id"] == answer.message_id
    assert latest["request_id"] == _provider_request_id(exchange, answer.message_id)
    assert latest["client"] == "BY/GOV/NCES/portal"
    assert latest["member"] == "NCES"
    assert latest["service"] == "person"
    # The code the portal sent narrowed the right's purposes to one; the register recorded
    # it with the text and legal basis the central registry declares.
    assert latest["purposes"] == [_demo_purpose("prefill")]
    assert latest["issue"] == "200.13.1"
    assert latest["user_id"] == f"BY{CITIZEN}"


def test_both_message_logs_hold_the_exchange_and_verify(exchange: Running) -> None:
    answer = exchange_call(service="BY/GOV/MVD/population/person", path=CITIZEN, **PERSONAL)
    for gateway in exchange.gateways.values():
        gateway.log.seal()
        gateway.log._file.flush()

    for gateway in exchange.gateways.values():
        rows = [json.loads(line) for line in gateway.log.path.read_text().splitlines()]
        ids = {row.get("message_id") for row in rows if row["kind"] == "request"}
        assert answer.message_id in ids
        assert verify_log(gateway.log.path).problems == []


def test_back_office_may_read_a_person_but_not_the_access_log(exchange: Running) -> None:
    office = "BY/GOV/MVD/backoffice"
    person = exchange_get_json(
        service="BY/GOV/MVD/population/person",
        path=CITIZEN,
        client=office,
        user_id="BY-STAFF-7",
        purpose="check",
        issue="MVD-2026-000001",
    )

    with pytest.raises(ExchangeUnavailable) as refused:
        exchange_get_json(
            service="BY/GOV/MVD/population/data-access-log",
            path=CITIZEN,
            client=office,
            user_id="BY-STAFF-7",
        )

    assert person["personal_number"] == CITIZEN
    assert refused.value.code == "Server.ServerProxy.AccessDenied"
    log = exchange_get_json(
        service="BY/GOV/MVD/population/data-access-log", path=CITIZEN, **OWN_DATA
    )
    latest = log["accesses"][0]
    assert (latest["client"], latest["purposes"], latest["issue"]) == (
        office,
        [_demo_purpose("check")],
        "MVD-2026-000001",
    )


def test_registry_errors_pass_through_as_refusals(exchange: Running) -> None:
    with pytest.raises(ExchangeRefused) as missing:
        exchange_get_json(service="BY/GOV/MVD/population/person", path="3010101A000PB0", **PERSONAL)

    assert missing.value.status in {400, 404}
    assert missing.value.code in {"not_found", "invalid_identifier"}


def test_company_and_its_directors_through_the_exchange(exchange: Running) -> None:
    company = exchange_get_json(
        service="BY/GOV/MINJUST/legal-entities/entity",
        path="192541238",
        user_id="BY-STAFF-7",
        purpose="prefill",
        issue="MGI-2026-000001",
    )
    directed = exchange_get_json(
        service="BY/GOV/MINJUST/legal-entities/directed-by",
        path="3010180A001PB8",
        user_id="BY3010180A001PB8",
        purpose="representation",
    )

    assert company["unp"] == "192541238"
    assert "3010180A001PB8" in [director["personal_number"] for director in company["directors"]]
    assert "192541238" in [entity["unp"] for entity in directed["entities"]]
    # Both reads named the director: his record shows them.
    log = exchange_get_json(
        service="BY/GOV/MINJUST/legal-entities/data-access-log",
        path="3010180A001PB8",
        user_id="BY3010180A001PB8",
        purpose="own-data",
    )
    assert [
        (access["service"], access["data"], [p["code"] for p in access["purposes"]])
        for access in log["accesses"][:2]
    ] == [
        ("directed-by", "directorships", ["representation"]),
        ("entity", "directors", ["prefill"]),
    ]


def test_x_road_metaservices_describe_the_real_registries(exchange: Running) -> None:
    http = urllib3.PoolManager(retries=False)
    base = exchange.plain_url()
    headers = {"X-Road-Client": "BY/GOV/NCES/training", "Accept": "application/json"}

    methods = json.loads(
        http.request("GET", f"{base}/r1/BY/GOV/MVD/population/listMethods", headers=headers).data
    )
    openapi = http.request(
        "GET",
        f"{base}/r1/BY/GOV/MVD/population/getOpenAPI?serviceCode=person",
        headers={**headers, "Accept": "application/yaml"},
    )

    assert sorted(item["service_code"] for item in methods["service"]) == [
        "address-history",
        "data-access-log",
        "events",
        "family",
        "person",
    ]
    assert openapi.status == 200
    assert b"openapi: 3" in openapi.data
    assert b"/{personal_number}" in openapi.data or b"personal_number" in openapi.data


def test_registry_unreachable_is_an_exchange_error_not_a_crash(exchange: Running, settings) -> None:  # type: ignore[no-untyped-def]
    exchange.run(exchange.gateways["GW-PORTAL"].stop())
    del exchange.gateways["GW-PORTAL"]

    with pytest.raises(ExchangeUnavailable) as down:
        exchange_get_json(service="BY/GOV/MVD/population/person", path=CITIZEN, **PERSONAL)

    assert down.value.code == "unreachable"


def _cabinet_rows(html: str) -> list[str]:
    body = html.split('<tbody class="govuk-table__body">', 1)[1].split("</tbody>", 1)[0]
    return [" ".join(unescape(re.sub(r"<[^>]+>", " ", row)).split()) for row in body.split("</tr>")]


def test_an_x_road_client_written_from_the_protocol_alone_reads_a_person_and_the_person_sees_it(
    exchange: Running, client
) -> None:  # type: ignore[no-untyped-def]
    # Only what the X-Road Message Protocol for REST says: a GET of /r1/{serviceId}/{path} on
    # the client side of the gateway, with X-Road-Client and X-Road-Issue. No user, no
    # purpose, no egov header. The issue is the caller's own text: the person never sees it.
    note = "Police case 17: call +375 29 000"
    request = urllib.request.Request(
        f"{exchange.plain_url()}/r1/BY/GOV/MVD/population/person/{CITIZEN}",
        headers={"X-Road-Client": "BY/GOV/NCES/training", "X-Road-Issue": note},
    )
    with urllib.request.urlopen(request, timeout=15) as response:
        status = response.status
        answer = {name.lower(): value for name, value in response.headers.items()}
        person = json.loads(response.read())

    assert status == 200
    assert person["personal_number"] == CITIZEN
    assert person["last_name"]["be"] == "Каваленка"
    assert answer["x-road-client"] == "BY/GOV/NCES/training"
    assert answer["x-road-service"] == "BY/GOV/MVD/population/person"
    message_id = answer["x-road-id"]
    assert message_id

    log = exchange_get_json(
        service="BY/GOV/MVD/population/data-access-log", path=CITIZEN, **OWN_DATA
    )
    recorded = next(item for item in log["accesses"] if item["message_id"] == message_id)
    assert recorded == {
        "at": recorded["at"],
        "client": "BY/GOV/NCES/training",
        "member": "NCES",
        "service": "person",
        "data": "person",
        "purposes": [_demo_purpose("training")],
        "issue": note,
        "user_id": "",
        "message_id": message_id,
        "request_id": _provider_request_id(exchange, message_id),
    }

    citizen = User.objects.filter(personal_number=CITIZEN).first() or UserFactory(
        personal_number=CITIZEN
    )
    login(client, citizen)
    training = demo_data()["purposes"]["training"]
    for language in ("en", "be"):
        page = client.get(f"/{language}/my-account/data-access/")
        assert page.status_code == 200
        html = page.content.decode()
        (row,) = [row for row in _cabinet_rows(html) if recorded["request_id"] in row]
        assert training["text"][language] in row
        assert " ".join(training["legal_basis"][language].split()) in row
        assert "Police case 17" not in html
        assert message_id not in html


def test_the_platform_speaks_for_its_subsystems_with_their_certificates_only(
    exchange: Running, settings
) -> None:  # type: ignore[no-untyped-def]
    # Without a certificate, on the plain side, the portal is not who it says it is.
    http = urllib3.PoolManager(retries=False)
    refused = http.request(
        "GET",
        f"{exchange.plain_url()}/r1/BY/GOV/MVD/population/person/{CITIZEN}",
        headers={"X-Road-Client": "BY/GOV/NCES/portal"},
    )
    assert refused.status == 500
    assert refused.headers["X-Road-Error"] == "Server.ClientProxy.SslAuthenticationFailed"
    # Presenting the back office's certificate does not make a call the portal's either.
    portal = client_certificate_paths(settings.EXCHANGE_CLIENT_TLS_DIR, "BY/GOV/NCES/portal")
    office = client_certificate_paths(settings.EXCHANGE_CLIENT_TLS_DIR, "BY/GOV/MVD/backoffice")
    for source, target in zip(office, portal, strict=True):
        target.write_bytes(source.read_bytes())
    with pytest.raises(ExchangeUnavailable) as impostor:
        exchange_get_json(service="BY/GOV/MVD/population/person", path=CITIZEN, **PERSONAL)
    assert impostor.value.code == "Server.ClientProxy.SslAuthenticationFailed"

    # The back office, with its own certificate, is answered.
    person = exchange_get_json(
        service="BY/GOV/MVD/population/person",
        path=CITIZEN,
        client="BY/GOV/MVD/backoffice",
        user_id="BY-STAFF-7",
        purpose="check",
    )
    assert person["personal_number"] == CITIZEN
