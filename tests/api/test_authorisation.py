"""Who may call what: every endpoint against five callers, with the exact status, and a
refused call changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from egov.cases.models import Application
from egov.cases.services import case_claim, transition_fire
from egov.identity.models import User
from tests.api.conftest import ANSWERS, CRIMINAL_RECORD, ContractClient, bearer

pytestmark = pytest.mark.django_db

CALLERS = ("anonymous", "applicant", "other_citizen", "official", "foreign_official")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: Callable[[Application], str]
    expected: dict[str, int]
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    #: Brings the application to where the permitted call makes sense.
    prepare: str = ""


def statuses(*codes: int) -> dict[str, int]:
    return dict(zip(CALLERS, codes, strict=True))


ENDPOINTS = {
    "catalogue list": Endpoint(
        "get", lambda a: "/api/v1/catalogue/services/", statuses(*[200] * 5)
    ),
    "catalogue service": Endpoint(
        "get", lambda a: f"/api/v1/catalogue/services/{CRIMINAL_RECORD}/", statuses(*[200] * 5)
    ),
    "my applications": Endpoint(
        "get", lambda a: "/api/v1/me/applications/", statuses(401, 200, 200, 403, 403)
    ),
    "my application": Endpoint(
        "get", lambda a: f"/api/v1/me/applications/{a.number}/", statuses(401, 200, 404, 403, 403)
    ),
    "submit": Endpoint(
        "post",
        lambda a: "/api/v1/me/applications/",
        statuses(401, 201, 201, 403, 403),
        body={"service": CRIMINAL_RECORD, "answers": ANSWERS[CRIMINAL_RECORD]},
        headers={"HTTP_IDEMPOTENCY_KEY": "matrix"},
    ),
    "withdraw": Endpoint(
        "post",
        lambda a: f"/api/v1/me/applications/{a.number}/withdraw/",
        statuses(401, 200, 404, 403, 403),
        body={"comment": "No longer needed"},
    ),
    "answer": Endpoint(
        "post",
        lambda a: f"/api/v1/me/applications/{a.number}/answer/",
        statuses(401, 200, 404, 403, 403),
        body={"answer": "Here is the answer"},
        prepare="question",
    ),
    "queue": Endpoint("get", lambda a: "/api/v1/agency/cases/", statuses(401, 403, 403, 200, 200)),
    "case": Endpoint(
        "get", lambda a: f"/api/v1/agency/cases/{a.number}/", statuses(401, 403, 403, 200, 404)
    ),
    "claim": Endpoint(
        "post",
        lambda a: f"/api/v1/agency/cases/{a.number}/claim/",
        statuses(401, 403, 403, 200, 404),
    ),
    "transition": Endpoint(
        "post",
        lambda a: f"/api/v1/agency/cases/{a.number}/transitions/",
        statuses(401, 403, 403, 200, 404),
        body={"transition": "request_information", "comment": "Which employer?"},
        prepare="claimed",
    ),
}


@pytest.fixture
def callers(
    citizen: User, other_citizen: User, clerk: User, foreign_clerk: User
) -> dict[str, ContractClient]:
    return {
        "anonymous": ContractClient(),
        "applicant": bearer(citizen),
        "other_citizen": bearer(other_citizen),
        "official": bearer(clerk),
        "foreign_official": bearer(foreign_clerk),
    }


def _prepare(application: Application, clerk: User, prepare: str) -> None:
    if prepare in ("claimed", "question"):
        case_claim(actor=clerk, application_id=application.pk)
    if prepare == "question":
        transition_fire(
            application_id=application.pk,
            transition_code="request_information",
            actor=clerk,
            comment="Which employer?",
        )


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_authorisation_matrix(
    name: str,
    caller: str,
    application: Application,
    clerk: User,
    callers: dict[str, ContractClient],
    unchanged: Any,
) -> None:
    endpoint = ENDPOINTS[name]
    _prepare(application, clerk, endpoint.prepare)
    expected = endpoint.expected[caller]
    client = callers[caller]

    def call() -> Any:
        return getattr(client, endpoint.method)(
            endpoint.path(application), endpoint.body, format="json", **endpoint.headers
        )

    if expected >= 400:
        with unchanged(application):
            response = call()
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["status"] == expected
    else:
        response = call()

    assert response.status_code == expected, response.content
    if expected == 401:
        assert response["WWW-Authenticate"] == "Bearer"
        assert response.json()["code"] == "not_authenticated"
    if expected == 403:
        assert response.json()["code"] == (
            "applicants_only" if caller.endswith("official") else "officials_only"
        )
    if expected == 404:
        assert response.json()["code"] == "not_found"


def test_permitted_lists_hold_only_the_caller_s_own(
    application: Application, callers: dict[str, ContractClient]
) -> None:
    def listed(caller: str, path: str) -> list[str]:
        return [item["number"] for item in callers[caller].get(path).json()["results"]]

    assert listed("applicant", "/api/v1/me/applications/") == [application.number]
    assert listed("other_citizen", "/api/v1/me/applications/") == []
    assert listed("official", "/api/v1/agency/cases/") == [application.number]
    assert listed("foreign_official", "/api/v1/agency/cases/") == []


def test_a_refused_withdrawal_leaves_the_application_open(
    application: Application, callers: dict[str, ContractClient]
) -> None:
    for caller in ("other_citizen", "official", "foreign_official"):
        callers[caller].post(f"/api/v1/me/applications/{application.number}/withdraw/")

    application.refresh_from_db()
    assert application.state == "in_review"
    assert application.outcome == ""
