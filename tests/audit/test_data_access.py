"""Who used my data: the audit ledger's ``data.accessed`` entries about the signed-in person
(each register records its reads there), newest first, only ever their own, each with its
proof for that person only."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from django.utils import timezone

from egov.audit import record
from egov.audit.models import Entry
from egov.audit.verify import proof_verify
from tests.factories import (
    CRIMINAL_RECORD_ANSWERS,
    OfficialFactory,
    UserFactory,
    login,
    submitted,
)

pytestmark = pytest.mark.django_db

PAGE = "/en/my-account/data-access/"


CHECK = {
    "code": "check",
    "text": {
        "be": "Праверка звестак заявы",
        "ru": "Проверка сведений заявления",
        "en": "Checking an application's facts",
    },
    "legal_basis": {
        "be": "Закон № 433-З, арт. 21",
        "ru": "Закон № 433-З, ст. 21",
        "en": "Law No. 433-Z, Article 21",
    },
}
PREFILL = {
    "code": "prefill",
    "text": {
        "be": "Запаўненне вашай заявы",
        "ru": "Заполнение вашего заявления",
        "en": "Prefilling your own application",
    },
    "legal_basis": {
        "be": "Закон № 99-З, арт. 6",
        "ru": "Закон № 99-З, ст. 6",
        "en": "Law No. 99-Z, Article 6",
    },
}
REPRESENTATION = {
    "code": "representation",
    "text": {
        "be": "Хто можа дзейнічаць ад імя арганізацыі",
        "ru": "Кто может действовать от имени организации",
        "en": "Who may act for an organisation",
    },
    "legal_basis": {"be": "", "ru": "", "en": ""},
}


POPULATION_LOG = "population"
ENTITIES_LOG = "legal_entities"
PORTAL = "BY/GOV/NCES/portal"
TRAINING = "BY/GOV/NCES/training"


def _access(
    at: str,
    member: str,
    purposes: list,
    issue: str,
    request_id: str,
    data: str,
    client: str = "",
    message_id: str = "client-chosen-id",
) -> dict:
    """An access as a register lists it: by default a back office of ``member``'s call."""
    return {
        "at": at,
        "client": client or f"BY/GOV/{member}/backoffice",
        "member": member,
        "service": data,
        "data": data,
        "purposes": purposes,
        "issue": issue,
        "user_id": "BY-STAFF-SYSTEM",
        "message_id": message_id,
        "request_id": request_id,
    }


def _recorded(register: str, personal_number: str, document: dict) -> list[Entry]:
    """The register's reads as it records them into the ledger (its DataAccess rows)."""
    return [
        record(
            "data.accessed",
            actor=access["client"],
            subject=personal_number,
            data={"register": register, **access},
        )
        for access in document["accesses"]
    ]


def _three_accesses(citizen, application) -> None:  # type: ignore[no-untyped-def]
    pn = citizen.personal_number
    _recorded(
        POPULATION_LOG,
        pn,
        {
            "personal_number": pn,
            "accesses": [
                _access(
                    "2026-03-05T10:00:00+00:00",
                    "MVD",
                    [CHECK],
                    application.number,
                    "msg-3",
                    "person",
                ),
                _access(
                    "2026-03-01T09:00:00+00:00",
                    "NCES",
                    [PREFILL],
                    "200.13.1",
                    "msg-1",
                    "family",
                    client=PORTAL,
                ),
            ],
        },
    )
    _recorded(
        ENTITIES_LOG,
        pn,
        {
            "personal_number": pn,
            "accesses": [
                _access(
                    "2026-03-03T12:00:00+00:00",
                    "NCES",
                    [REPRESENTATION],
                    "",
                    "msg-2",
                    "directorships",
                    client=PORTAL,
                )
            ],
        },
    )


def _rows(html: str) -> list[list[str]]:
    """The table's cells as text, row by row."""
    body = html.split('<tbody class="govuk-table__body">', 1)[1].split("</tbody>", 1)[0]
    rows = []
    for row in body.split("</tr>")[:-1]:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
        rows.append([" ".join(unescape(re.sub(r"<[^>]+>", " ", cell)).split()) for cell in cells])
    return rows


def test_the_page_lists_every_access_newest_first_from_both_registers(client, exchange):
    citizen = UserFactory()
    application = submitted("MVD-NO-CRIMINAL-RECORD", citizen, CRIMINAL_RECORD_ANSWERS)
    exchange.received.clear()
    _three_accesses(citizen, application)
    login(client, citizen)
    page = client.get(PAGE)
    html = page.content.decode()
    assert page.status_code == 200
    assert _rows(html) == [
        [
            "05.03.2026 13:00",
            "Ministry of Internal Affairs of the Republic of Belarus",
            "Your personal details Population register",
            "Checking an application's facts Legal basis: Law No. 433-Z, Article 21",
            f"Application {application.number}",
            "msg-3",
            "Download the proof of this use of your data",
        ],
        [
            "03.03.2026 15:00",
            "National Center for Electronic Services",
            "Organisations you direct Legal entities register",
            "Who may act for an organisation",
            "—",
            "msg-2",
            "Download the proof of this use of your data",
        ],
        [
            "01.03.2026 12:00",
            "National Center for Electronic Services",
            "Your family Population register",
            "Prefilling your own application Legal basis: Law No. 99-Z, Article 6",
            "Registering your place of residence",
            "msg-1",
            "Download the proof of this use of your data",
        ],
    ]
    assert f'href="/en/my-account/applications/{application.number}/"' in html
    # Read from the ledger: no register is asked.
    assert exchange.received == []


@pytest.mark.parametrize(
    ("language", "check", "basis", "prefill"),
    [
        (
            "be",
            "Праверка звестак заявы",
            "Закон № 433-З, арт. 21",
            "Запаўненне вашай заявы",
        ),
        (
            "ru",
            "Проверка сведений заявления",
            "Закон № 433-З, ст. 21",
            "Заполнение вашего заявления",
        ),
        (
            "en",
            "Checking an application&#x27;s facts",
            "Law No. 433-Z, Article 21",
            "Prefilling your own application",
        ),
    ],
    ids=["be", "ru", "en"],
)
def test_purposes_and_legal_basis_are_shown_in_the_language_of_the_page(
    client, exchange, language, check, basis, prefill
):
    citizen = UserFactory()
    application = submitted("MVD-NO-CRIMINAL-RECORD", citizen, CRIMINAL_RECORD_ANSWERS)
    _three_accesses(citizen, application)
    login(client, citizen)
    html = client.get(f"/{language}/my-account/data-access/").content.decode()
    assert check in html
    assert basis in html
    assert prefill in html
    others = {"be", "ru", "en"} - {language}
    for other in others:
        assert CHECK["legal_basis"][other] not in html
        assert PREFILL["text"][other].replace("'", "&#x27;") not in html


def test_a_record_without_the_pages_language_falls_back_and_one_without_texts_shows_the_code(
    client, exchange
):
    citizen = UserFactory()
    pn = citizen.personal_number
    only_russian = {"code": "check", "text": {"ru": "Проверка"}, "legal_basis": {"ru": "Закон"}}
    bare = {"code": "prefill:200.13.1", "text": {}, "legal_basis": {}}
    _recorded(
        POPULATION_LOG,
        pn,
        {
            "personal_number": pn,
            "accesses": [
                _access("2026-03-05T10:00:00Z", "MVD", [only_russian], "", "msg-2", "person"),
                _access(
                    "2026-03-01T10:00:00Z", "NCES", [bare], "draft-7", "msg-1", "person", PORTAL
                ),
            ],
        },
    )
    login(client, citizen)
    rows = _rows(client.get(PAGE).content.decode())
    assert [row[3:5] for row in rows] == [
        ["Проверка Legal basis: Закон", "—"],
        ["prefill:200.13.1", "draft-7"],
    ]


def test_another_persons_application_is_named_but_not_linked(client, exchange):
    owner = UserFactory()
    application = submitted("MVD-NO-CRIMINAL-RECORD", owner, CRIMINAL_RECORD_ANSWERS)
    relative = UserFactory()
    _recorded(
        POPULATION_LOG,
        relative.personal_number,
        {
            "personal_number": relative.personal_number,
            "accesses": [
                _access("2026-03-05T10:00:00Z", "MVD", [CHECK], application.number, "m", "family")
            ],
        },
    )
    login(client, relative)
    html = client.get(PAGE).content.decode()
    assert _rows(html)[0][4] == application.number
    assert f"/my-account/applications/{application.number}/" not in html


def test_a_callers_issue_is_neither_shown_nor_linked_unless_the_platform_made_the_call(
    client, exchange
):
    """``X-Road-Issue`` and ``X-Road-Id`` are whatever the caller wrote. Only the portal's own
    calls and the back office of the agency that owns the application named may have it
    shown; the proof is the id the exchange gave the request."""
    citizen = UserFactory()
    application = submitted("MVD-NO-CRIMINAL-RECORD", citizen, CRIMINAL_RECORD_ANSWERS)
    note = "Police case 17: call +375 29 000"
    _recorded(
        POPULATION_LOG,
        citizen.personal_number,
        {
            "personal_number": citizen.personal_number,
            "accesses": [
                _access("2026-03-05T10:00:00Z", "NCES", [CHECK], note, "req-5", "person",
                        TRAINING, message_id="Call +375 29 111"),
                _access("2026-03-04T10:00:00Z", "NCES", [CHECK], application.number, "req-4",
                        "person", TRAINING),
                _access("2026-03-03T10:00:00Z", "NCES", [PREFILL], "200.13.1", "req-3",
                        "family", TRAINING),
                # Another agency's back office naming this MVD application.
                _access("2026-03-02T10:00:00Z", "MINTRUDA", [CHECK], application.number,
                        "req-2", "person"),
                _access("2026-03-01T10:00:00Z", "MVD", [CHECK], note, "req-1", "person"),
            ],
        },
    )  # fmt: skip
    login(client, citizen)
    html = client.get(PAGE).content.decode()
    assert [(row[4], row[5]) for row in _rows(html)] == [
        ("—", "req-5"),
        ("—", "req-4"),
        ("—", "req-3"),
        ("—", "req-2"),
        ("—", "req-1"),
    ]
    assert "Police case 17" not in html
    assert "+375" not in html
    assert application.number not in html
    assert "Registering your place of residence" not in html
    assert "/my-account/applications/" not in html


def test_the_platforms_own_accesses_still_name_the_service_and_link_the_application(
    client, exchange
):
    citizen = UserFactory()
    application = submitted("MVD-NO-CRIMINAL-RECORD", citizen, CRIMINAL_RECORD_ANSWERS)
    _recorded(
        POPULATION_LOG,
        citizen.personal_number,
        {
            "personal_number": citizen.personal_number,
            "accesses": [
                _access("2026-03-03T10:00:00Z", "NCES", [PREFILL], "200.13.1", "req-3",
                        "family", PORTAL),
                _access("2026-03-02T10:00:00Z", "NCES", [PREFILL], application.number, "req-2",
                        "person", PORTAL),
                _access("2026-03-01T10:00:00Z", "MVD", [CHECK], application.number, "",
                        "person"),
            ],
        },
    )  # fmt: skip
    login(client, citizen)
    html = client.get(PAGE).content.decode()
    assert [(row[4], row[5]) for row in _rows(html)] == [
        ("Registering your place of residence", "req-3"),
        (f"Application {application.number}", "req-2"),
        (f"Application {application.number}", "—"),
    ]
    assert html.count(f'href="/en/my-account/applications/{application.number}/"') == 2
    assert "client-chosen-id" not in html


def test_another_citizen_sees_only_their_own_whatever_the_url_says(client, exchange):
    owner = UserFactory()
    other = UserFactory()
    _recorded(
        POPULATION_LOG,
        owner.personal_number,
        {
            "personal_number": owner.personal_number,
            "accesses": [_access("2026-03-05T10:00:00Z", "MVD", [CHECK], "X", "secret", "person")],
        },
    )
    login(client, other)
    page = client.get(f"{PAGE}?personal_number={owner.personal_number}")
    html = page.content.decode()
    assert page.status_code == 200
    assert "secret" not in html
    assert "Nobody has used your data from the registers yet." in html
    assert exchange.received == []


def test_anonymous_is_sent_to_log_in(client, exchange):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/en/account/login/")
    assert exchange.received == []


def test_the_exchange_down_changes_nothing_the_ledger_is_local(client, exchange):
    citizen = UserFactory()
    application = submitted("MVD-NO-CRIMINAL-RECORD", citizen, CRIMINAL_RECORD_ANSWERS)
    _three_accesses(citizen, application)
    exchange.down()
    login(client, citizen)
    page = client.get(PAGE)
    html = page.content.decode()
    assert page.status_code == 200
    assert "We cannot reach these registers at the moment" not in html
    assert [row[5] for row in _rows(html)] == ["msg-3", "msg-2", "msg-1"]


def test_the_account_page_links_to_it(client):
    login(client, UserFactory())
    assert f'href="{PAGE}"' in client.get("/en/my-account/").content.decode()


def _proof_url(entry: Entry) -> str:
    return f"/en/audit/proofs/{entry.pk}.json"


def test_the_person_downloads_the_proof_of_each_use_and_it_verifies(
    ledger_root, client, ledger_signer
):
    citizen = UserFactory()
    entries = _recorded(
        POPULATION_LOG,
        citizen.personal_number,
        {"accesses": [_access("2026-03-05T10:00:00Z", "MVD", [CHECK], "", "req-1", "person")]},
    )
    login(client, citizen)
    html = client.get(PAGE).content.decode()
    assert f'href="{_proof_url(entries[0])}"' in html
    response = client.get(_proof_url(entries[0]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="ledger-proof-{entries[0].pk}.json"'
    )
    proof = json.loads(response.content)
    assert proof["entry_id"] == entries[0].pk
    result = proof_verify(proof, anchors=ledger_root)
    assert result.ok, result.reason
    assert result.entry is not None
    assert result.entry["subject"] == citizen.personal_number
    assert result.entry["data"]["request_id"] == "req-1"


@pytest.mark.parametrize("caller", ["another citizen", "official", "anonymous"])
def test_nobody_else_gets_the_proof(client, ledger_signer, caller):
    owner = UserFactory()
    entries = _recorded(
        POPULATION_LOG,
        owner.personal_number,
        {"accesses": [_access("2026-03-05T10:00:00Z", "MVD", [CHECK], "", "req-1", "person")]},
    )
    if caller == "another citizen":
        login(client, UserFactory())
    elif caller == "official":
        login(client, OfficialFactory())
    response = client.get(_proof_url(entries[0]))
    if caller == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith("/en/account/login/")
    else:
        assert response.status_code == 404
    assert not Entry.objects.exclude(leaf_index=None).exists()  # nothing sequenced or signed


def test_no_signer_gives_a_message_not_an_error(client, settings):
    settings.AUDIT_SIGNER = "nobody"
    citizen = UserFactory()
    entry = record("data.accessed", actor="x", subject=citizen.personal_number, data={})
    login(client, citizen)
    response = client.get(_proof_url(entry))
    assert response.status_code == 503
    assert "The proof cannot be made now" in response.content.decode()


def test_a_number_nobody_proved_shows_nobodys_data(client, ledger_signer):
    """Someone registers with another person's identification number (registration checks
    only its form): until the account holder proves it with the e-ID, the page shows nobody's
    data and no proof is given after a password and a second factor."""
    squatter = UserFactory(personal_number_proven_at=None)
    entries = _recorded(
        POPULATION_LOG,
        squatter.personal_number,
        {"accesses": [_access("2026-03-05T10:00:00Z", "MVD", [CHECK], "", "req-9", "person")]},
    )
    login(client, squatter)
    page = client.get(PAGE)
    assert page.status_code == 200
    html = unescape(page.content.decode())
    assert "confirm with your e-ID that it is yours" in html
    assert "/en/account/verify/?level=high&next=%2Fen%2Fmy-account%2Fdata-access%2F" in html
    assert "req-9" not in html and _proof_url(entries[0]) not in html
    assert client.get(_proof_url(entries[0])).status_code == 404

    # The e-ID that carries the number opened this session: its holder sees their data, and
    # that proves nothing for the password (whoever set it may not be the number's owner).
    login(client, squatter, assurance="high")
    html = unescape(client.get(PAGE).content.decode())
    assert "req-9" in html and "confirm with your e-ID" not in html
    assert client.get(_proof_url(entries[0])).status_code == 200
    login(client, squatter)
    assert "req-9" not in unescape(client.get(PAGE).content.decode())

    squatter.personal_number_proven_at = timezone.now()  # as a step-up from a password does
    squatter.save(update_fields=["personal_number_proven_at"])
    html = unescape(client.get(PAGE).content.decode())
    assert "req-9" in html and "confirm with your e-ID" not in html
    assert client.get(_proof_url(entries[0])).status_code == 200
