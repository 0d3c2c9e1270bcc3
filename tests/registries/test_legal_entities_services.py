import pytest

from egov.registries.addresses.models import Address
from egov.registries.legal_entities import services
from egov.registries.legal_entities.models import DataAccess

from .conftest import CLIENT, LEGAL_ENTITIES, REQUEST_ID, gateway_headers

pytestmark = [pytest.mark.urls("egov.registries.urls"), pytest.mark.django_db]
BASE = "/registries/legal-entities/v1"
ANDREI = "3010180A001PB8"


@pytest.fixture
def headers() -> dict[str, str]:
    return gateway_headers(LEGAL_ENTITIES)


def test_entity_answers_names_status_address_and_directors(client, demo_people, headers):
    response = client.get(f"{BASE}/entities/192541238", **headers)
    assert response.status_code == 200
    office = Address.objects.get(text_ru="220100, г. Минск, ул. Кульман, д. 11, пом. 4")
    assert response.json() == {
        "unp": "192541238",
        "name": {
            "be": "Таварыства з абмежаванай адказнасцю «Лясны край»",
            "ru": "Общество с ограниченной ответственностью «Лесной край»",
        },
        "short_name": {"be": "ТАА «Лясны край»", "ru": "ООО «Лесной край»"},
        "legal_form": "llc",
        "status": "active",
        "registered_on": "2015-04-20",
        "address": office.as_json(),
        "directors": [
            {
                "personal_number": ANDREI,
                "full_name": "Шымановіч Андрэй Іванавіч",
                "since": "2015-04-20",
            }
        ],
    }
    # The directors are people: the read is on their record.
    access = DataAccess.objects.get()
    assert (access.client, access.service, access.data, access.subject) == (
        CLIENT,
        "entity",
        "directors",
        ANDREI,
    )


def test_entity_needs_the_gateway_key_and_a_purpose(client, demo_people):
    bare = {"HTTP_X_EGOV_GATEWAY_KEY": gateway_headers(LEGAL_ENTITIES)["HTTP_X_EGOV_GATEWAY_KEY"]}
    without_purpose = client.get(f"{BASE}/entities/MA1953684", **bare)
    refused = client.get(f"{BASE}/entities/MA1953684")

    assert without_purpose.status_code == 400
    assert without_purpose.json()["code"] == "purpose_required"
    assert refused.status_code == 403
    assert refused.json()["code"] == "gateway_required"
    assert not DataAccess.objects.exists()


@pytest.mark.parametrize("unp", ["192541239", "19254123", "ABCDEFGHI"])
def test_invalid_unp_is_refused(client, headers, unp):
    response = client.get(f"{BASE}/entities/{unp}", **headers)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_identifier"


def test_unknown_unp_is_not_found(client, headers):
    response = client.get(f"{BASE}/entities/200988541", **headers)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_directed_by_lists_the_entities_and_is_recorded(client, demo_people, headers):
    response = client.get(f"{BASE}/directed-by/{ANDREI}", **headers)
    assert response.status_code == 200
    assert response.json() == {
        "personal_number": ANDREI,
        "entities": [
            {
                "unp": "MA1953684",
                "name": {
                    "be": "Індывідуальны прадпрымальнік Шымановіч Андрэй Іванавіч",
                    "ru": "Индивидуальный предприниматель Шиманович Андрей Иванович",
                },
                "short_name": {"be": "ІП Шымановіч А. І.", "ru": "ИП Шиманович А. И."},
                "legal_form": "sole_trader",
                "status": "active",
                "since": "2009-06-15",
            },
            {
                "unp": "192541238",
                "name": {
                    "be": "Таварыства з абмежаванай адказнасцю «Лясны край»",
                    "ru": "Общество с ограниченной ответственностью «Лесной край»",
                },
                "short_name": {"be": "ТАА «Лясны край»", "ru": "ООО «Лесной край»"},
                "legal_form": "llc",
                "status": "active",
                "since": "2015-04-20",
            },
        ],
    }
    access = DataAccess.objects.get()
    assert (
        access.client, access.member, access.service, access.data, access.subject,
        access.request_id,
    ) == (
        CLIENT, "MVD", "directed-by", "directorships", ANDREI, REQUEST_ID,
    )  # fmt: skip
    log = client.get(f"{BASE}/data-access-log/{ANDREI}", **headers).json()
    assert log == {"personal_number": ANDREI, "accesses": [access.as_json()]}
    assert DataAccess.objects.count() == 1


def test_directed_by_needs_purpose_and_a_valid_number(client, demo_people):
    headers = gateway_headers(LEGAL_ENTITIES)
    del headers["HTTP_X_EGOV_PURPOSES"]
    assert client.get(f"{BASE}/directed-by/{ANDREI}", **headers).json()["code"] == (
        "purpose_required"
    )
    bad = client.get(f"{BASE}/directed-by/3010180A001PB9", **gateway_headers(LEGAL_ENTITIES))
    assert bad.json()["code"] == "invalid_identifier"
    assert not DataAccess.objects.exists()


def test_events_are_paged(client, headers):
    import datetime

    at = datetime.datetime(2026, 11, 2, 12, tzinfo=datetime.UTC)
    events = [
        services.event_record(type="company_registered", subject=f"19000000{n}", at=at, data={})
        for n in range(3)
    ]
    body = client.get(f"{BASE}/events", {"after": events[0].pk, "limit": 1}, **headers).json()
    assert body == {
        "events": [
            {
                "id": events[1].pk,
                "type": "company_registered",
                "at": "2026-11-02T12:00:00+00:00",
                "subject": "190000001",
                "data": {},
            }
        ],
        "next": events[1].pk,
    }
    assert not DataAccess.objects.exists()
