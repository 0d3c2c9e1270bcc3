"""Who used my data: the registers' access logs about the signed-in person, merged newest
first, only ever their own."""

from __future__ import annotations

import pytest

from tests.factories import CRIMINAL_RECORD_ANSWERS, UserFactory, login, submitted
from tests.registrydata.stub import ENTITIES_LOG, POPULATION_LOG

pytestmark = pytest.mark.django_db

PAGE = "/en/my-account/data-access/"


def _access(at: str, member: str, purpose: str, issue: str, message_id: str, data: str) -> dict:
    return {
        "at": at,
        "client": f"BY/GOV/{member}/backoffice",
        "member": member,
        "service": data,
        "data": data,
        "purpose": purpose,
        "issue": issue,
        "user_id": "BY-STAFF-SYSTEM",
        "message_id": message_id,
    }


def test_the_page_lists_every_access_newest_first_from_both_registers(client, exchange):
    citizen = UserFactory()
    application = submitted("MVD-NO-CRIMINAL-RECORD", citizen, CRIMINAL_RECORD_ANSWERS)
    exchange.received.clear()
    pn = citizen.personal_number
    exchange.answer(
        POPULATION_LOG,
        pn,
        {
            "personal_number": pn,
            "accesses": [
                _access(
                    "2026-03-05T10:00:00+00:00",
                    "MVD",
                    f"check:{application.number}",
                    application.number,
                    "msg-3",
                    "person",
                ),
                _access(
                    "2026-03-01T09:00:00+00:00",
                    "NCES",
                    "prefill:200.13.1",
                    "draft-1",
                    "msg-1",
                    "family",
                ),
            ],
        },
    )
    exchange.answer(
        ENTITIES_LOG,
        pn,
        {
            "personal_number": pn,
            "accesses": [
                _access(
                    "2026-03-03T12:00:00+00:00",
                    "NCES",
                    "representation:refresh",
                    "",
                    "msg-2",
                    "directorships",
                )
            ],
        },
    )
    login(client, citizen)
    page = client.get(PAGE)
    html = page.content.decode()
    assert page.status_code == 200
    assert html.index("msg-3") < html.index("msg-2") < html.index("msg-1")
    assert "Ministry of Internal Affairs of the Republic of Belarus" in html
    assert "National Center for Electronic Services" in html
    assert f"Checking application {application.number}" in html
    assert f'href="/en/my-account/applications/{application.number}/"' in html
    assert "Filling in the form of “Registering your place of residence”" in html
    assert "Checking which organisations you may act for" in html
    assert "Your personal details" in html
    assert "Your family" in html
    assert "Organisations you direct" in html
    assert "Legal entities register" in html
    calls = exchange.calls(POPULATION_LOG) + exchange.calls(ENTITIES_LOG)
    assert [call.path for call in calls] == [
        f"/r1/{POPULATION_LOG}/{pn}",
        f"/r1/{ENTITIES_LOG}/{pn}",
    ]
    for call in calls:
        assert call.headers["X-Road-Client"] == "BY/GOV/NCES/portal"
        assert call.headers["X-Road-UserId"] == f"BY{pn}"
        assert call.headers["X-Egov-Purpose"] == "cabinet:data-access"


def test_another_citizen_sees_only_their_own_whatever_the_url_says(client, exchange):
    owner = UserFactory()
    other = UserFactory()
    exchange.answer(
        POPULATION_LOG,
        owner.personal_number,
        {
            "personal_number": owner.personal_number,
            "accesses": [
                _access("2026-03-05T10:00:00Z", "MVD", "check:X", "X", "secret", "person")
            ],
        },
    )
    login(client, other)
    page = client.get(f"{PAGE}?personal_number={owner.personal_number}")
    html = page.content.decode()
    assert page.status_code == 200
    assert "secret" not in html
    assert "Nobody has used your data from the registers yet." in html
    assert {call.path.rsplit("/", 1)[1] for call in exchange.received} == {other.personal_number}


def test_anonymous_is_sent_to_log_in(client, exchange):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/en/account/login/")
    assert exchange.received == []


def test_register_down_gives_a_message_not_an_error(client, exchange):
    citizen = UserFactory()
    exchange.down()
    login(client, citizen)
    page = client.get(PAGE)
    html = page.content.decode()
    assert page.status_code == 200
    assert "We cannot reach these registers at the moment" in html
    assert "Population register, Legal entities register" in html


def test_the_account_page_links_to_it(client):
    login(client, UserFactory())
    assert f'href="{PAGE}"' in client.get("/en/my-account/").content.decode()
