"""Who reaches which back-office URL: anonymous people log in first, citizens are refused,
an official of another agency finds nothing, and the agency's official gets the page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from egov.cases import services
from egov.cases.models import Application, Attachment
from egov.identity.models import User
from tests.backoffice.conftest import PDF, criminal_record_data, office_log_in, snapshot, submit

pytestmark = pytest.mark.django_db

ENDPOINTS = ["queue", "case", "claim", "assign", "actions", "note", "file"]


@pytest.fixture
def case_with_file(citizen: User) -> tuple[Application, Attachment]:
    application = submit(
        citizen,
        data=criminal_record_data(citizen, name_changed=True, former_names="Іваненка Алена"),
        uploads={"name_change_documents": [SimpleUploadedFile("marriage.pdf", PDF)]},
    )
    return application, application.attachments.get()


def request_of(
    endpoint: str, application: Application, attachment: Attachment, assignee: User
) -> tuple[str, str, dict[str, Any] | None]:
    """The request each endpoint answers when everything is in order."""
    case = f"/en/office/cases/{application.number}/"
    return {
        "queue": ("get", "/en/office/", None),
        "case": ("get", case, None),
        "claim": ("post", f"{case}claim/", {}),
        "assign": ("post", f"{case}assign/", {"assignee": assignee.pk}),
        "actions": (
            "post",
            f"{case}actions/",
            {"transition": "request_information", "comment": "Дашліце копію пашпарта."},
        ),
        "note": ("post", f"{case}notes/", {"note": "Праверыць па базе."}),
        "file": ("get", f"{case}files/{attachment.pk}/", None),
    }[endpoint]


def send(client: Client, method: str, url: str, data: dict[str, Any] | None) -> Any:
    return client.post(url, data) if method == "post" else client.get(url)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_anonymous_person_is_sent_to_log_in(client, case_with_file, clerk, endpoint):
    application, attachment = case_with_file
    before = snapshot(application)
    method, url, data = request_of(endpoint, application, attachment, clerk)
    response = send(client, method, url, data)
    assert response.status_code == 302
    assert response["Location"] == "/en/account/login/?" + urlencode({"next": url})
    assert snapshot(application) == before


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_citizen_cannot_use_the_back_office_even_for_their_own_case(
    client, case_with_file, citizen, clerk, endpoint
):
    application, attachment = case_with_file
    before = snapshot(application)
    office_log_in(client, citizen)
    method, url, data = request_of(endpoint, application, attachment, clerk)
    response = send(client, method, url, data)
    assert response.status_code == 403
    assert "Сяргееўна" not in response.content.decode()
    assert snapshot(application) == before


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_official_of_another_agency_finds_no_such_case(
    client, case_with_file, other_official, clerk, endpoint
):
    application, attachment = case_with_file
    before = snapshot(application)
    office_log_in(client, other_official)
    method, url, data = request_of(endpoint, application, attachment, clerk)
    response = send(client, method, url, data)
    if endpoint == "queue":
        assert response.status_code == 200
        assert response.context["page"].paginator.count == 0
        assert response.context["rows"] == []
        assert application.number not in response.content.decode()
    else:
        assert response.status_code == 404
    # the language switcher repeats the URL, so look for the applicant rather than the number
    assert "Сяргееўна" not in response.content.decode()
    assert snapshot(application) == before


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_official_of_the_agency_is_served(client, case_with_file, decider, clerk, endpoint):
    application, attachment = case_with_file
    if endpoint == "actions":
        services.case_claim(actor=decider, application_id=application.pk)
    before = snapshot(application)
    office_log_in(client, decider)
    method, url, data = request_of(endpoint, application, attachment, clerk)
    response = send(client, method, url, data)
    after = snapshot(application)
    if method == "get":
        assert response.status_code == 200
        assert after == before
    else:
        assert response.status_code == 303
        assert response["Location"] == f"/en/office/cases/{application.number}/"
    if endpoint == "queue":
        assert response.context["page"].paginator.count == 1
        assert application.number in response.content.decode()
    elif endpoint == "case":
        assert application.applicant.full_name in response.content.decode()
    elif endpoint == "claim":
        assert after == {**before, "assignee": decider.pk, "history_length": 3, "events": 3}
    elif endpoint == "assign":
        assert after == {**before, "assignee": clerk.pk, "history_length": 3, "events": 3}
    elif endpoint == "actions":
        assert after["state"] == "information_requested"
        assert after["requests"] == 1
        assert after["history_length"] == before["history_length"] + 1
    elif endpoint == "note":
        assert after == {**before, "notes": 1}
    elif endpoint == "file":
        assert b"".join(response.streaming_content) == PDF


def test_official_without_the_second_factor_in_this_session_is_asked_for_it(
    client, application, clerk
):
    client.force_login(clerk)
    url = f"/en/office/cases/{application.number}/"
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == "/en/account/verify/?" + urlencode({"next": url})
    before = snapshot(application)
    response = client.post(f"{url}claim/")
    assert response.status_code == 302
    assert snapshot(application) == before


def test_posts_need_the_csrf_token(application, clerk):
    client = Client(enforce_csrf_checks=True)
    office_log_in(client, clerk)
    before = snapshot(application)
    response = client.post(f"/en/office/cases/{application.number}/claim/")
    assert response.status_code == 403
    assert snapshot(application) == before


@pytest.mark.parametrize("action", ["claim", "assign", "actions", "notes"])
def test_actions_answer_only_post(client, application, decider, action):
    office_log_in(client, decider)
    before = snapshot(application)
    response = client.get(f"/en/office/cases/{application.number}/{action}/")
    assert response.status_code == 405
    assert snapshot(application) == before


def test_unknown_case_number_is_not_found(client, clerk):
    office_log_in(client, clerk)
    assert client.get("/en/office/cases/MVD-2026-999999/").status_code == 404
