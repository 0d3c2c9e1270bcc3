"""Rules enforced outside the API app that the API relies on."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from egov.cases.models import Application
from egov.identity.models import User
from egov.identity.selectors import SESSION_LOA
from egov.identity.services import SESSION_LOGIN_AT, SESSION_SEEN_AT
from tests.api.conftest import ANSWERS, CRIMINAL_RECORD, bearer

pytestmark = pytest.mark.django_db


def test_citizen_cannot_record_an_organisation_on_a_citizens_service(citizen: User) -> None:
    response = bearer(citizen).post(
        "/api/v1/me/applications/",
        {
            "service": CRIMINAL_RECORD,
            "answers": ANSWERS[CRIMINAL_RECORD],
            "on_behalf_unp": "999999999",
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="unp",
    )

    assert response.status_code in (201, 400, 403)
    assert not Application.objects.filter(on_behalf_unp="999999999").exists()


def test_expired_session_on_the_api_is_a_401_problem(citizen: User) -> None:
    client = APIClient()
    client.force_login(citizen)
    session = client.session
    session[SESSION_LOA] = "substantial"
    session[SESSION_LOGIN_AT] = 0
    session[SESSION_SEEN_AT] = 0
    session.save()

    response = client.get("/api/v1/me/applications/")

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def test_a_low_token_cannot_read_or_withdraw_a_substantial_application(citizen: User) -> None:
    response = bearer(citizen).post(
        "/api/v1/me/applications/",
        {"service": CRIMINAL_RECORD, "answers": ANSWERS[CRIMINAL_RECORD]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="low",
    )
    number = response.json()["number"]
    weak = bearer(citizen, assurance="low")
    assert weak.get(f"/api/v1/me/applications/{number}/").status_code == 403
    withdraw = weak.post(f"/api/v1/me/applications/{number}/withdraw/", {}, format="json")
    assert withdraw.status_code == 403
    assert withdraw.json()["code"] == "assurance_too_low"
    assert Application.objects.get(number=number).state == "submitted"
