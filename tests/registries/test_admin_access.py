"""A platform administrator reading a register on the admin pages is recorded in that
register's data-access log, one entry per person shown (ADR 0009), and the person sees it in
"who used my data"."""

from __future__ import annotations

import datetime
import math
import re
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from egov.registries.addresses.models import Address
from egov.registries.legal_entities import models as entities
from egov.registries.population import selectors as population_selectors
from egov.registries.population.models import DataAccess, Event, Person
from tests.factories import PASSWORD, UserFactory, current_code, login, personal_number, totp_device

pytestmark = pytest.mark.django_db

PERSONS = "/en/admin/registry_population/person/"


@pytest.fixture
def admin_user():  # type: ignore[no-untyped-def]
    return UserFactory(kind="admin", personal_number=None, is_superuser=True)


@pytest.fixture
def admin_client(client, admin_user):  # type: ignore[no-untyped-def]
    device = totp_device(admin_user)
    client.post("/en/account/login/", {"username": admin_user.email, "password": PASSWORD})
    client.post("/en/account/login/code/", {"token": current_code(device)})
    assert client.get("/en/admin/").status_code == 200
    return client


def _person(number: str, last_name: str = "Каваленка") -> Person:
    return Person.objects.create(
        personal_number=number,
        last_name_be=last_name,
        last_name_ru=last_name,
        last_name_lat="Kavalenka",
        first_name_be="Алена",
        first_name_ru="Елена",
        first_name_lat="Alena",
        birth_date=datetime.date(1990, 4, 12),
        sex="F",
    )


def _persons(count: int, start: int = 500) -> list[Person]:
    return [_person(personal_number(start + index)) for index in range(count)]


def _numbers_in_list(html: str, field: str = "personal_number") -> list[str]:
    """The values of a column of the changelist's rows, as the page shows them."""
    cells = re.findall(rf'class="field-{field}[^"]*">(.*?)</t[dh]>', html, flags=re.S)
    return [unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells]


def _entries(model=DataAccess) -> list:  # type: ignore[no-untyped-def]
    return list(model.objects.order_by("id"))


def _inserts(queries: CaptureQueriesContext, table: str) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("INSERT") and table in q["sql"]
    ]


def test_the_person_list_records_exactly_the_persons_shown_in_one_insert(admin_client, admin_user):
    _persons(120)
    DataAccess.objects.all().delete()
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(PERSONS)
    assert response.status_code == 200
    shown = _numbers_in_list(response.content.decode())
    expected = list(Person.objects.order_by("id").values_list("personal_number", flat=True)[:100])
    assert shown == expected  # 100 of them: one page
    entries = _entries()
    assert sorted(entry.subject for entry in entries) == sorted(shown)
    # One bulk insert (SQLite takes at most 999 values per statement: two there).
    batch = connection.ops.bulk_batch_size(
        [f for f in DataAccess._meta.concrete_fields if not f.primary_key], entries
    )
    assert len(_inserts(queries, DataAccess._meta.db_table)) == math.ceil(len(shown) / batch)
    first = entries[0]
    assert first.client == "admin"
    assert first.member == ""
    assert first.user_id == str(admin_user.pk)
    assert first.service == "admin:registry_population_person_changelist"
    assert first.data == "person"
    assert first.issue == "" and first.request_id == "" and first.message_id == ""
    assert [purpose["code"] for purpose in first.purposes] == ["administration"]
    assert first.purposes[0]["text"]["en"] == (
        "Administration of the register by a platform administrator"
    )
    assert set(first.purposes[0]["text"]) == {"be", "ru", "en"}
    for entry in entries:
        assert admin_user.email not in str(entry.as_json())
        assert admin_user.last_name not in str(entry.as_json())


def test_a_search_records_the_person_found_and_a_search_that_finds_nobody_records_nothing(
    admin_client,
):
    people = _persons(3)
    DataAccess.objects.all().delete()
    response = admin_client.get(PERSONS, {"q": people[1].personal_number})
    assert _numbers_in_list(response.content.decode()) == [people[1].personal_number]
    assert [entry.subject for entry in _entries()] == [people[1].personal_number]

    DataAccess.objects.all().delete()
    response = admin_client.get(PERSONS, {"q": personal_number(999)})
    assert response.status_code == 200
    assert _numbers_in_list(response.content.decode()) == []
    assert _entries() == []


def test_a_persons_page_and_its_history_record_that_person(admin_client, admin_user):
    alena, _other = _persons(2)
    DataAccess.objects.all().delete()
    response = admin_client.get(f"{PERSONS}{alena.pk}/change/")
    assert response.status_code == 200
    assert alena.personal_number in response.content.decode()
    assert [(e.subject, e.service, e.user_id) for e in _entries()] == [
        (alena.personal_number, "admin:registry_population_person_change", str(admin_user.pk))
    ]
    assert admin_client.get(f"{PERSONS}{alena.pk}/history/").status_code == 200
    assert [e.service for e in _entries()] == [
        "admin:registry_population_person_change",
        "admin:registry_population_person_history",
    ]
    assert {e.subject for e in _entries()} == {alena.personal_number}


def test_a_page_of_a_person_that_does_not_exist_records_nothing(admin_client):
    DataAccess.objects.all().delete()
    response = admin_client.get(f"{PERSONS}987654321/change/")
    assert response.status_code == 302
    assert _entries() == []


def test_the_access_log_and_event_lists_record_the_persons_they_name(admin_client):
    alena, ivan, child = _persons(3)
    DataAccess.objects.all().delete()
    now = datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)
    DataAccess.objects.create(
        at=now, client="BY/GOV/MVD/backoffice", member="MVD", service="person",
        data="person", subject=alena.personal_number,
    )  # fmt: skip
    response = admin_client.get("/en/admin/registry_population/dataaccess/")
    assert _numbers_in_list(response.content.decode(), "subject") == [alena.personal_number]
    recorded = DataAccess.objects.filter(client="admin")
    assert [(e.subject, e.data, e.service) for e in recorded] == [
        (
            alena.personal_number,
            "data-access-log",
            "admin:registry_population_dataaccess_changelist",
        )
    ]

    DataAccess.objects.all().delete()
    birth = Event.objects.create(
        type="birth", at=now, subject=child.personal_number,
        data={"mother": alena.personal_number, "father": ivan.personal_number},
    )  # fmt: skip
    response = admin_client.get("/en/admin/registry_population/event/")
    assert _numbers_in_list(response.content.decode(), "subject") == [child.personal_number]
    assert [(e.subject, e.data) for e in _entries()] == [(child.personal_number, "events")]

    DataAccess.objects.all().delete()
    assert (
        admin_client.get(f"/en/admin/registry_population/event/{birth.pk}/change/").status_code
        == 200
    )
    assert sorted(e.subject for e in _entries()) == sorted(
        [child.personal_number, alena.personal_number, ivan.personal_number]
    )


def _entity(unp: str, legal_form: str, *directors: str) -> entities.LegalEntity:
    address = Address.objects.create(
        region="Мінск", locality="г. Минск", house="1", postal_code="220030",
        text_be="Мінск", text_ru="Минск",
    )  # fmt: skip
    entity = entities.LegalEntity.objects.create(
        unp=unp, name_be="Кампанія", name_ru="Компания", short_name_be="Кампанія",
        short_name_ru="Компания", legal_form=legal_form, address=address,
        registered_on=datetime.date(2020, 1, 1),
    )  # fmt: skip
    for number in directors:
        entities.Director.objects.create(
            entity=entity, personal_number=number, full_name="Каваленка Алена",
            since=datetime.date(2020, 1, 1),
        )  # fmt: skip
    return entity


def test_legal_entities_record_the_directors_shown_in_their_own_log(admin_client):
    first, second, trader = personal_number(601), personal_number(602), personal_number(603)
    company = _entity("100000001", "llc", first, second)
    _entity("100000002", "sole_trader", trader)
    entities.DataAccess.objects.all().delete()
    DataAccess.objects.all().delete()

    admin_client.get(f"/en/admin/registry_legal_entities/legalentity/{company.pk}/change/")
    assert sorted(e.subject for e in _entries(entities.DataAccess)) == sorted([first, second])
    assert {e.service for e in _entries(entities.DataAccess)} == {
        "admin:registry_legal_entities_legalentity_change"
    }

    entities.DataAccess.objects.all().delete()
    response = admin_client.get("/en/admin/registry_legal_entities/director/", {"q": first})
    assert _numbers_in_list(response.content.decode()) == [first]
    assert [(e.subject, e.data) for e in _entries(entities.DataAccess)] == [(first, "directors")]

    # The list of entities shows names: a sole trader's is a person's own.
    entities.DataAccess.objects.all().delete()
    response = admin_client.get("/en/admin/registry_legal_entities/legalentity/")
    assert response.status_code == 200
    assert [e.subject for e in _entries(entities.DataAccess)] == [trader]
    assert _entries() == []  # nothing in the population register's log


AUTOCOMPLETE = "/en/admin/autocomplete/"


def test_the_admins_autocomplete_records_the_persons_it_names(admin_client, admin_user):
    """The autocomplete answers for any foreign key to a register's model (the request names
    the field), with each object's name: a whole register, page by page, when the search is
    empty."""
    people = _persons(3)
    trader = personal_number(604)
    _entity("100000003", "sole_trader", trader)
    DataAccess.objects.all().delete()
    entities.DataAccess.objects.all().delete()

    response = admin_client.get(
        AUTOCOMPLETE,
        {"app_label": "registry_population", "model_name": "identitydocument",
         "field_name": "person", "term": ""},
    )  # fmt: skip
    assert response.status_code == 200
    named = [result["text"] for result in response.json()["results"]]
    assert len(named) == 3
    assert all(person.last_name_be in text for person, text in zip(people, named, strict=True))
    assert sorted((e.subject, e.service, e.user_id, e.data) for e in _entries()) == sorted(
        (
            person.personal_number,
            "admin:registry_population_person_autocomplete",
            str(admin_user.pk),
            "person",
        )
        for person in people
    )

    response = admin_client.get(
        AUTOCOMPLETE,
        {"app_label": "registry_legal_entities", "model_name": "director",
         "field_name": "entity", "term": "100000003"},
    )  # fmt: skip
    assert len(response.json()["results"]) == 1
    assert [e.subject for e in _entries(entities.DataAccess)] == [trader]


def test_only_a_verified_platform_admin_reads_and_a_refusal_records_nothing(client):
    (alena,) = _persons(1)
    DataAccess.objects.all().delete()
    login(client, UserFactory())
    assert client.get(PERSONS).status_code == 302
    assert client.get(f"{PERSONS}{alena.pk}/change/").status_code == 302
    assert _entries() == []


def test_who_used_my_data_shows_the_administrators_access(admin_client):
    citizen = UserFactory()
    person = _person(citizen.personal_number)
    DataAccess.objects.all().delete()
    assert admin_client.get(f"{PERSONS}{person.pk}/change/").status_code == 200

    # The register's own answer to data-access-log names it; the page reads the ledger.
    answer = population_selectors.accesses_for(personal_number=citizen.personal_number)
    assert [a["client"] for a in answer["accesses"]] == ["admin"]

    browser = Client()
    login(browser, citizen)
    html = browser.get("/en/my-account/data-access/").content.decode()
    body = html.split('<tbody class="govuk-table__body">', 1)[1].split("</tbody>", 1)[0]
    cells = [
        " ".join(unescape(re.sub(r"<[^>]+>", " ", cell)).split())
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", body, flags=re.S)
    ]
    assert cells[1:] == [
        "A platform administrator On the register's administration pages of the platform",
        "Your personal details Population register",
        "Administration of the register by a platform administrator",
        "—",
        "—",
        "Download the proof of this use of your data",
    ]
