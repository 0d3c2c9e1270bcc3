import datetime
import json

import pytest
from django.utils import timezone

from egov.registries.addresses.models import Address
from egov.registries.population import services
from egov.registries.population.models import DataAccess, Event, Person

from .conftest import CHECK_PURPOSE, CLIENT, REQUEST_ID, gateway_headers, purposes_header

pytestmark = [pytest.mark.urls("egov.registries.urls"), pytest.mark.django_db]
ALENA = "4150592M012PB5"
BASE = "/registries/population/v1"


def _address(text_ru: str) -> dict:
    return Address.objects.get(text_ru=text_ru).as_json()


OWN_DATA = {
    "code": "own-data",
    "text": {"be": "Вашы звесткі", "ru": "Ваши сведения", "en": "Your own data"},
    "legal_basis": {"be": "Закон № 99-З", "ru": "Закон № 99-З", "en": "Law No. 99-Z"},
}
HOME = "220004, г. Минск, ул. Максима Танка, д. 36, кв. 58"


def test_person_answers_the_registered_data(client, demo_people, headers):
    response = client.get(f"{BASE}/persons/{ALENA}", **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json() == {
        "personal_number": ALENA,
        "last_name": {"be": "Каваленка", "ru": "Коваленко", "lat": "Kavalienka"},
        "first_name": {"be": "Алена", "ru": "Елена", "lat": "Aliena"},
        "patronymic": {"be": "Сяргееўна", "ru": "Сергеевна", "lat": "Siarhiejeŭna"},
        "birth_date": "1992-05-15",
        "sex": "F",
        "citizenship": "BY",
        "status": "alive",
        "death_date": None,
        "address": {
            "id": Address.objects.get(text_ru=HOME).pk,
            "postal_code": "220004",
            "locality": "г. Минск",
            "street": "ул. Максима Танка",
            "house": "36",
            "flat": "58",
            "text": {"be": "220004, г. Мінск, вул. Максіма Танка, д. 36, кв. 58", "ru": HOME},
        },
        "documents": [
            {
                "type": "birth_certificate",
                "number": "I-МН 0455182",
                "issued_on": "1992-05-25",
                "valid_until": None,
                "authority": "Аддзел загса адміністрацыі Фрунзенскага раёна г. Мінска",
            },
            {
                "type": "passport",
                "number": "MP2845173",
                "issued_on": "2016-03-10",
                "valid_until": "2026-03-10",
                "authority": "Фрунзенскае РУУС г. Мінска",
            },
            {
                "type": "id_card",
                "number": "MP7215408",
                "issued_on": "2022-02-14",
                "valid_until": "2032-02-14",
                "authority": "Фрунзенскае РУУС г. Мінска",
            },
        ],
    }


def _summary(number: str) -> dict:
    person = Person.objects.get(personal_number=number)
    return {
        "personal_number": number,
        "last_name": {
            "be": person.last_name_be, "ru": person.last_name_ru, "lat": person.last_name_lat
        },
        "first_name": {
            "be": person.first_name_be, "ru": person.first_name_ru, "lat": person.first_name_lat
        },
        "patronymic": {
            "be": person.patronymic_be, "ru": person.patronymic_ru, "lat": person.patronymic_lat
        },
        "birth_date": person.birth_date.isoformat(),
        "status": "alive",
    }  # fmt: skip


def test_family_lists_parents_children_and_spouse(client, demo_people, headers):
    response = client.get(f"{BASE}/family/{ALENA}", **headers)
    assert response.status_code == 200
    assert response.json() == {
        "personal_number": ALENA,
        "parents": [],
        "children": [_summary("5030620M045PB9")],
        "spouse": _summary("3120890M027PB2"),
    }
    child = client.get(f"{BASE}/family/5030620M045PB9", **headers).json()
    assert child["parents"] == [_summary("3120890M027PB2"), _summary(ALENA)]
    assert child["spouse"] is None
    assert child["parents"][0]["first_name"] == {
        "be": "Дзмітрый",
        "ru": "Дмитрий",
        "lat": "Dzmitryj",
    }


def test_address_history_oldest_first(client, demo_people, headers):
    response = client.get(f"{BASE}/address-history/{ALENA}", **headers)
    assert response.status_code == 200
    assert response.json() == {
        "personal_number": ALENA,
        "addresses": [
            {
                "address": _address("220013, г. Минск, ул. Якуба Коласа, д. 12, кв. 7"),
                "from": "1992-05-25",
                "until": "2018-07-09",
                "kind": "residence",
            },
            {
                "address": _address("220030, г. Минск, ул. Октябрьская, д. 10а, кв. 412"),
                "from": "2009-09-01",
                "until": "2013-06-30",
                "kind": "stay",
            },
            {"address": _address(HOME), "from": "2018-07-10", "until": None, "kind": "residence"},
        ],
    }


@pytest.mark.parametrize("service", ["persons", "family", "address-history"])
def test_a_successful_read_is_recorded_with_who_and_why(client, demo_people, headers, service):
    before = timezone.now()
    assert client.get(f"{BASE}/{service}/{ALENA}", **headers).status_code == 200
    access = DataAccess.objects.get()
    code = {"persons": "person"}.get(service, service)
    assert access.at >= before
    assert (
        access.client, access.member, access.service, access.data, access.subject,
        access.user_id, access.purposes, access.issue, access.message_id, access.request_id,
    ) == (
        CLIENT, "MVD", code, code, ALENA, "BY-STAFF-17", [CHECK_PURPOSE],
        "MVD-2026-000123", "6f1c2a34-0d7e-4c55-9d43-1b2a3c4d5e6f", REQUEST_ID,
    )  # fmt: skip


def test_data_access_log_lists_reads_newest_first_and_is_not_recorded(client, demo_people):
    portal = gateway_headers(
        HTTP_X_ROAD_CLIENT="BY/GOV/NCES/portal",
        HTTP_X_ROAD_USERID=f"BY{ALENA}",
        HTTP_X_EGOV_PURPOSES=purposes_header(OWN_DATA),
        HTTP_X_ROAD_ISSUE="",
        HTTP_X_ROAD_ID="11111111-2222-3333-4444-555555555555",
    )
    client.get(f"{BASE}/persons/{ALENA}", **gateway_headers())
    client.get(
        f"{BASE}/family/{ALENA}",
        **gateway_headers(
            HTTP_X_ROAD_CLIENT="BY/GOV/MINTRUDA/backoffice",
            HTTP_X_ROAD_REQUEST_ID="9c8b7a65-4321-4fed-8cba-0123456789ab",
        ),
    )
    response = client.get(f"{BASE}/data-access-log/{ALENA}", **portal)
    assert response.status_code == 200
    body = response.json()
    accesses = list(DataAccess.objects.order_by("-at", "-id"))
    assert body == {
        "personal_number": ALENA,
        "accesses": [
            {
                "at": accesses[0].at.isoformat(),
                "client": "BY/GOV/MINTRUDA/backoffice",
                "member": "MINTRUDA",
                "service": "family",
                "data": "family",
                "purposes": [CHECK_PURPOSE],
                "issue": "MVD-2026-000123",
                "user_id": "BY-STAFF-17",
                "message_id": "6f1c2a34-0d7e-4c55-9d43-1b2a3c4d5e6f",
                "request_id": "9c8b7a65-4321-4fed-8cba-0123456789ab",
            },
            {
                "at": accesses[1].at.isoformat(),
                "client": CLIENT,
                "member": "MVD",
                "service": "person",
                "data": "person",
                "purposes": [CHECK_PURPOSE],
                "issue": "MVD-2026-000123",
                "user_id": "BY-STAFF-17",
                "message_id": "6f1c2a34-0d7e-4c55-9d43-1b2a3c4d5e6f",
                "request_id": REQUEST_ID,
            },
        ],
    }
    assert DataAccess.objects.count() == 2
    other = client.get(f"{BASE}/data-access-log/3010180A001PB8", **portal).json()
    assert other == {"personal_number": "3010180A001PB8", "accesses": []}


def test_the_gateways_request_id_is_recorded_not_a_client_supplied_one(client, demo_people):
    """The client writes ``X-Road-Id`` itself; only the provider gateway's request id is proof.
    A call without one (an older gateway) is answered and recorded with none, and an overlong
    one is cut to the gateway's own bound."""
    spoofed = gateway_headers(HTTP_X_ROAD_ID=REQUEST_ID)
    del spoofed["HTTP_X_ROAD_REQUEST_ID"]
    assert client.get(f"{BASE}/persons/{ALENA}", **spoofed).status_code == 200
    long_id = gateway_headers(HTTP_X_ROAD_REQUEST_ID="r" * 80)
    assert client.get(f"{BASE}/family/{ALENA}", **long_id).status_code == 200
    recorded = list(DataAccess.objects.order_by("id").values_list("message_id", "request_id"))
    assert recorded == [(REQUEST_ID, ""), ("6f1c2a34-0d7e-4c55-9d43-1b2a3c4d5e6f", "r" * 64)]


NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"


def test_a_person_answer_is_never_stored_by_a_cache(client, demo_people, headers):
    response = client.get(f"{BASE}/persons/{ALENA}", **headers)
    assert response.status_code == 200
    assert response["Cache-Control"] == NEVER_CACHE
    assert "Expires" in response


@pytest.mark.parametrize(
    ("path", "status"),
    [(f"{BASE}/persons/3010180A002PB1", 404), (f"{BASE}/persons/4150592M012PB4", 400)],
)
def test_a_problem_answer_is_never_stored_by_a_cache(client, demo_people, headers, path, status):
    response = client.get(path, **headers)
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert response["Cache-Control"] == NEVER_CACHE
    assert not DataAccess.objects.exists()


def test_unknown_person_is_not_found_and_not_recorded(client, demo_people, headers):
    response = client.get(f"{BASE}/persons/3010180A002PB1", HTTP_ACCEPT_LANGUAGE="en", **headers)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": "https://egov.example/problems/not_found",
        "title": "Not found",
        "status": 404,
        "code": "not_found",
        "detail": "The register holds no record with this identifier.",
    }
    assert not DataAccess.objects.exists()


@pytest.mark.parametrize("number", ["4150592M012PB4", "415059", "41505920012PB5", "4310292M012PB3"])
@pytest.mark.parametrize("service", ["persons", "family", "address-history", "data-access-log"])
def test_invalid_personal_number_is_refused(client, demo_people, headers, number, service):
    response = client.get(f"{BASE}/{service}/{number}", **headers)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_identifier"
    assert not DataAccess.objects.exists()


@pytest.mark.parametrize("value", [None, "", "  ", "[]"])
@pytest.mark.parametrize("service", ["persons", "family", "address-history", "data-access-log"])
def test_personal_data_needs_the_purposes_the_gateway_sets(client, demo_people, value, service):
    headers = gateway_headers()
    if value is None:
        del headers["HTTP_X_EGOV_PURPOSES"]
    else:
        headers["HTTP_X_EGOV_PURPOSES"] = value
    response = client.get(f"{BASE}/{service}/{ALENA}", HTTP_ACCEPT_LANGUAGE="en", **headers)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    expected_code = "invalid_purposes" if value == "[]" else "purpose_required"
    assert response.json()["code"] == expected_code
    if value is None:
        assert response.json() == {
            "type": "https://egov.example/problems/purpose_required",
            "title": "The request is not valid",
            "status": 400,
            "code": "purpose_required",
            "detail": "A personal-data service answers only calls whose purposes the exchange "
            "has set (X-Egov-Purposes).",
        }
    assert client.get(f"{BASE}/events", **headers).json()["code"] == expected_code
    assert not DataAccess.objects.exists()


def test_a_free_text_purpose_from_the_client_is_not_a_purpose(client, demo_people):
    headers = gateway_headers(HTTP_X_EGOV_PURPOSE="anything I like")
    del headers["HTTP_X_EGOV_PURPOSES"]
    response = client.get(f"{BASE}/persons/{ALENA}", **headers)
    assert response.status_code == 400
    assert response.json()["code"] == "purpose_required"
    assert not DataAccess.objects.exists()


@pytest.mark.parametrize(
    "value",
    [
        "check",
        "{not json",
        '{"code": "check"}',
        '["check"]',
        '[{"text": {"en": "no code"}}]',
        '[{"code": ""}]',
        '[{"code": "check", "text": "plain"}]',
        '[{"code": "check", "text": {"en": 5}}]',
        '[{"code": "check", "legal_basis": ["Law"]}]',
        "[" + ",".join(['{"code": "c"}'] * 21) + "]",
        '[{"code": "' + "c" * 65 + '"}]',
    ],
)
def test_malformed_purposes_are_refused_and_nothing_is_recorded(client, demo_people, value):
    response = client.get(
        f"{BASE}/persons/{ALENA}",
        HTTP_ACCEPT_LANGUAGE="en",
        **gateway_headers(HTTP_X_EGOV_PURPOSES=value),
    )
    assert response.status_code == 400
    assert response.json() == {
        "type": "https://egov.example/problems/invalid_purposes",
        "title": "The request is not valid",
        "status": 400,
        "code": "invalid_purposes",
        "detail": "X-Egov-Purposes must be a JSON array of purposes, each with a code, a text "
        "and a legal basis.",
    }
    assert not DataAccess.objects.exists()


def test_every_purpose_is_recorded_in_three_languages_with_missing_ones_empty(client, demo_people):
    second = {"code": "prefill", "text": {"ru": "Заполнение"}, "legal_basis": {}}
    headers = gateway_headers(HTTP_X_EGOV_PURPOSES=purposes_header(CHECK_PURPOSE, second))
    assert client.get(f"{BASE}/persons/{ALENA}", **headers).status_code == 200
    assert DataAccess.objects.get().purposes == [
        CHECK_PURPOSE,
        {
            "code": "prefill",
            "text": {"be": "", "ru": "Заполнение", "en": ""},
            "legal_basis": {"be": "", "ru": "", "en": ""},
        },
    ]


def test_a_call_without_a_user_is_answered_and_recorded_without_one(client, demo_people):
    headers = gateway_headers()
    del headers["HTTP_X_ROAD_USERID"]
    assert client.get(f"{BASE}/persons/{ALENA}", **headers).status_code == 200
    access = DataAccess.objects.get()
    assert (access.user_id, access.purposes, access.client) == ("", [CHECK_PURPOSE], CLIENT)


def test_utf8_in_the_purposes_header_is_read_as_utf8(client, demo_people):
    raw = json.dumps([CHECK_PURPOSE], ensure_ascii=False).encode("utf-8").decode("latin-1")
    assert (
        client.get(
            f"{BASE}/persons/{ALENA}", **gateway_headers(HTTP_X_EGOV_PURPOSES=raw)
        ).status_code
        == 200
    )
    assert DataAccess.objects.get().purposes == [CHECK_PURPOSE]


@pytest.mark.parametrize("key", [None, "", "wrong-key"])
def test_calls_without_the_gateway_key_are_refused(client, demo_people, key):
    headers = gateway_headers()
    if key is None:
        del headers["HTTP_X_EGOV_GATEWAY_KEY"]
    else:
        headers["HTTP_X_EGOV_GATEWAY_KEY"] = key
    for path in ("persons", "family", "address-history", "data-access-log"):
        response = client.get(f"{BASE}/{path}/{ALENA}", **headers)
        assert response.status_code == 403
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == "gateway_required"
    assert client.get(f"{BASE}/events", **headers).status_code == 403
    assert not DataAccess.objects.exists()


def test_only_get_is_allowed(client, demo_people, headers):
    response = client.post(f"{BASE}/persons/{ALENA}", **headers)
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert response.json()["code"] == "method_not_allowed"
    assert not DataAccess.objects.exists()


def _events(count: int) -> list[Event]:
    at = datetime.datetime(2026, 11, 20, 12, tzinfo=datetime.UTC)
    return [
        services.event_record(
            type="birth", subject=f"subject-{n}", at=at, data={"birth_date": "2026-11-18"}
        )
        for n in range(count)
    ]


def test_events_are_paged_in_id_order(client, headers):
    events = _events(5)
    first = client.get(f"{BASE}/events", {"after": events[0].pk - 1, "limit": 2}, **headers)
    assert first.status_code == 200
    assert first.json() == {
        "events": [
            {
                "id": event.pk,
                "type": "birth",
                "at": "2026-11-20T12:00:00+00:00",
                "subject": event.subject,
                "data": {"birth_date": "2026-11-18"},
            }
            for event in events[:2]
        ],
        "next": events[1].pk,
    }
    rest = client.get(f"{BASE}/events", {"after": events[1].pk, "limit": 500}, **headers).json()
    assert [event["id"] for event in rest["events"]] == [event.pk for event in events[2:]]
    assert rest["next"] is None
    exact = client.get(f"{BASE}/events", {"after": events[1].pk, "limit": 3}, **headers).json()
    assert exact["next"] is None
    subjects = set(DataAccess.objects.values_list("subject", flat=True))
    assert subjects == {event.subject for event in events}


@pytest.mark.parametrize("query", [{"after": "x"}, {"limit": "0"}, {"after": "-1"}])
def test_events_refuse_bad_paging(client, headers, query):
    response = client.get(f"{BASE}/events", query, **headers)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_parameter"
    assert not DataAccess.objects.exists()


def test_events_limit_is_at_most_500(client, headers):
    events = _events(3)
    body = client.get(f"{BASE}/events", {"after": 0, "limit": 10_000}, **headers).json()
    assert [event["id"] for event in body["events"]][-3:] == [event.pk for event in events]
