"""Prefill (the once-only principle): answers the registers already hold are fetched through
the exchange, shown read-only with their source, and kept whatever is posted."""

from __future__ import annotations

import pytest

from egov.cases.models import Application, Draft
from tests.factories import UserFactory, login
from tests.registrydata.stub import FAMILY_SERVICE, PERSON_SERVICE, person

pytestmark = pytest.mark.django_db

RESIDENCE = "200.13.1"  # prefill_unavailable: type_in
CRIMINAL_RECORD = "MVD-NO-CRIMINAL-RECORD"  # prefill_unavailable: wait


def _start(client, code: str) -> tuple[str, str]:
    response = client.post(f"/en/services/{code}/apply/")
    assert response.status_code == 302
    location = response["Location"]
    return location, location.split("/")[4]


def _citizen(client):  # type: ignore[no-untyped-def]
    citizen = UserFactory()
    login(client, citizen)
    return citizen


def test_prefilled_answers_are_shown_read_only_with_their_source(client, exchange):
    citizen = _citizen(client)
    exchange.answer(PERSON_SERVICE, citizen.personal_number, person(citizen.personal_number))
    first, draft_id = _start(client, RESIDENCE)
    assert first == f"/en/my-account/drafts/{draft_id}/applicant/"
    page = client.get(first)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Каваленка" in html
    assert "220030, г. Мінск, вул. Леніна, д. 5, кв. 12" in html
    assert html.count("From the population register") == 4
    assert 'name="applicant_last_name"' not in html
    assert 'name="current_address"' not in html
    draft = Draft.objects.get(pk=draft_id)
    assert draft.prefill["status"] == "done"
    assert draft.prefill["sources"] == {
        "applicant_last_name": "population.person",
        "applicant_first_name": "population.person",
        "applicant_patronymic": "population.person",
        "current_address": "population.person",
    }
    assert draft.data == {
        "applicant_last_name": "Каваленка",
        "applicant_first_name": "Алена",
        "applicant_patronymic": "Іванаўна",
        "current_address": "220030, г. Мінск, вул. Леніна, д. 5, кв. 12",
    }
    # Asked once: showing the page again does not ask the register again.
    client.get(first)
    assert len(exchange.calls(PERSON_SERVICE)) == 1


def test_prefill_call_carries_the_x_road_headers(client, exchange):
    citizen = _citizen(client)
    exchange.answer(PERSON_SERVICE, citizen.personal_number, person(citizen.personal_number))
    _start(client, RESIDENCE)
    (call,) = exchange.calls(PERSON_SERVICE)
    assert call.path == f"/r1/{PERSON_SERVICE}/{citizen.personal_number}"
    assert call.headers["X-Road-Client"] == "BY/GOV/NCES/portal"
    assert call.headers["X-Road-UserId"] == f"BY{citizen.personal_number}"
    assert call.headers["X-Egov-Purpose"] == "prefill"
    assert call.headers["X-Road-Issue"] == "200.13.1"
    assert len(call.headers["X-Road-Id"]) == 36


def _criminal_record_through(client, first: str, draft_id: str, tampered: dict) -> None:
    response = client.post(
        first,
        {
            "birth_place": "Мінск",
            "name_changed": "no",
            **tampered,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"] == f"/en/my-account/drafts/{draft_id}/certificate/"
    response = client.post(
        response["Location"],
        {"purpose": "employment", "delivery": "e_account", "email": "a@example.org"},
    )
    assert response["Location"] == f"/en/my-account/drafts/{draft_id}/documents/"


def test_posted_changes_to_prefilled_answers_are_ignored_and_the_application_keeps_the_register(
    client, exchange
):
    citizen = _citizen(client)
    exchange.answer(PERSON_SERVICE, citizen.personal_number, person(citizen.personal_number))
    first, draft_id = _start(client, CRIMINAL_RECORD)
    tampered = {
        "last_name": "Падробка",
        "personal_number": "3010190A001PB7",
        "birth_date-day": "1",
        "birth_date-month": "1",
        "birth_date-year": "2000",
    }
    _criminal_record_through(client, first, draft_id, tampered)
    draft = Draft.objects.get(pk=draft_id)
    assert draft.data["last_name"] == "Каваленка"
    assert draft.data["personal_number"] == citizen.personal_number
    assert draft.data["birth_date"] == "1990-04-12"
    check = client.get(f"/en/my-account/drafts/{draft_id}/check/")
    html = check.content.decode()
    assert "12.04.1990" in html
    assert html.count("From the population register") == 5
    assert "Падробка" not in html
    response = client.post(f"/en/my-account/drafts/{draft_id}/check/")
    assert response.status_code == 302
    application = Application.objects.get(applicant=citizen)
    assert application.data["last_name"] == "Каваленка"
    assert application.data["first_name"] == "Алена"
    assert application.data["personal_number"] == citizen.personal_number
    assert application.data["birth_date"] == "1990-04-12"
    assert application.prefilled == {
        "last_name": "population.person",
        "first_name": "population.person",
        "patronymic": "population.person",
        "personal_number": "population.person",
        "birth_date": "population.person",
    }
    page = client.get(f"/en/my-account/applications/{application.number}/").content.decode()
    assert page.count("From the population register") == 5


def test_register_unavailable_and_type_in_lets_the_person_type_with_a_message(client):
    _citizen(client)
    first, draft_id = _start(client, RESIDENCE)
    page = client.get(first)
    html = page.content.decode()
    assert page.status_code == 200
    assert "We cannot reach the population register at the moment" in html
    assert 'name="applicant_last_name"' in html
    assert "From the population register" not in html
    response = client.post(first, {"applicant_last_name": "Мароз", "current_address": "Мінск"})
    assert response.status_code == 302
    draft = Draft.objects.get(pk=draft_id)
    assert draft.data == {"applicant_last_name": "Мароз", "current_address": "Мінск"}
    assert draft.prefill["status"] == "unavailable"


def test_register_unavailable_and_wait_keeps_the_draft_and_asks_to_come_back(client, exchange):
    _citizen(client)
    exchange.down()
    first, draft_id = _start(client, CRIMINAL_RECORD)
    page = client.get(first)
    html = page.content.decode()
    assert page.status_code == 503
    assert page["Retry-After"] == "300"
    assert "The register cannot be reached at the moment" in html
    assert "Your draft has been saved" in html
    assert 'name="birth_place"' not in html
    response = client.post(first, {"birth_place": "Мінск", "name_changed": "no"})
    assert response.status_code == 503
    draft = Draft.objects.get(pk=draft_id)
    assert draft.data == {}
    assert draft.completed_steps == []


def test_wait_service_fills_in_once_the_register_is_back(client, exchange, settings):
    citizen = _citizen(client)
    exchange.down()
    first, draft_id = _start(client, CRIMINAL_RECORD)
    assert client.get(first).status_code == 503
    exchange.up()
    exchange.answer(PERSON_SERVICE, citizen.personal_number, person(citizen.personal_number))
    Draft.objects.filter(pk=draft_id).update(
        prefill={"status": "unavailable", "at": "2000-01-01T00:00:00+00:00"}
    )
    page = client.get(first)
    assert page.status_code == 200
    assert "Каваленка" in page.content.decode()


def test_an_x_road_error_counts_as_unavailable(client, exchange):
    _citizen(client)
    exchange.mode = "xroad_error"
    first, _draft_id = _start(client, RESIDENCE)
    html = client.get(first).content.decode()
    assert "We cannot reach the population register at the moment" in html
    assert 'name="applicant_first_name"' in html


def test_no_record_in_the_register_says_so_and_lets_the_person_type(client, exchange):
    _citizen(client)  # the stub answers 404 not_found for anyone it was not told about
    first, draft_id = _start(client, RESIDENCE)
    html = client.get(first).content.decode()
    assert "We could not find your record in the population register" in html
    assert 'name="applicant_last_name"' in html
    assert Draft.objects.get(pk=draft_id).prefill["status"] == "not_found"


def test_no_record_and_wait_cannot_continue_online(client, exchange):
    _citizen(client)
    first, _draft_id = _start(client, CRIMINAL_RECORD)
    page = client.get(first)
    assert page.status_code == 503
    assert "The register has no record of you" in page.content.decode()


def test_family_data_fills_the_other_parent(client, exchange):
    citizen = _citizen(client)
    spouse = {
        "personal_number": "3010190A001PB7",
        "last_name": {"be": "Каваленка", "ru": "Коваленко", "lat": "Kavalenka"},
        "first_name": {"be": "Павел", "ru": "Павел", "lat": "Paval"},
        "patronymic": {"be": "Юр'евіч", "ru": "Юрьевич", "lat": "Juryevich"},
        "birth_date": "1988-01-02",
        "status": "alive",
    }
    exchange.answer(PERSON_SERVICE, citizen.personal_number, person(citizen.personal_number))
    exchange.answer(
        FAMILY_SERVICE,
        citizen.personal_number,
        {
            "personal_number": citizen.personal_number,
            "parents": [],
            "children": [],
            "spouse": spouse,
        },
    )
    _first, draft_id = _start(client, "200.5.1")
    page = client.get(f"/en/my-account/drafts/{draft_id}/parents/").content.decode()
    assert "3010190A001PB7" in page
    assert 'name="other_parent_personal_number"' not in page
    assert 'name="other_parent_full_name"' in page
    assert len(exchange.calls(PERSON_SERVICE)) == 1
    assert len(exchange.calls(FAMILY_SERVICE)) == 1
