"""Answers of the API that may carry personal data are never stored by a cache, errors
included; only the public catalogue may be."""

from __future__ import annotations

import json
from typing import Any

import pytest

from egov.cases.models import Application
from egov.cases.services import case_claim, transition_fire
from egov.identity.models import User
from tests.api.conftest import ANSWERS, CRIMINAL_RECORD, ContractClient, bearer

pytestmark = pytest.mark.django_db


def directives(response: Any) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part.strip()}


def assert_no_store(response: Any) -> None:
    assert "no-store" in directives(response), (response.status_code, response.get("Cache-Control"))
    assert "private" in directives(response)


def _post_json(client: ContractClient, path: str, body: Any, **extra: Any) -> Any:
    return client.post(path, body, format="json", **extra)


@pytest.fixture
def asked(application: Application, clerk: User) -> Application:
    case_claim(actor=clerk, application_id=application.pk)
    transition_fire(
        application_id=application.pk,
        transition_code="request_information",
        actor=clerk,
        comment="Send a copy of your passport",
    )
    application.refresh_from_db()
    return application


def test_my_applications_list_and_detail_are_no_store(
    citizen: User, application: Application
) -> None:
    client = bearer(citizen)

    listing = client.get("/api/v1/me/applications/")
    detail = client.get(f"/api/v1/me/applications/{application.number}/")

    assert (listing.status_code, detail.status_code) == (200, 200)
    assert_no_store(listing)
    assert_no_store(detail)


def test_submitting_is_no_store(citizen: User) -> None:
    body = {"service": CRIMINAL_RECORD, "answers": ANSWERS[CRIMINAL_RECORD]}

    response = _post_json(
        bearer(citizen), "/api/v1/me/applications/", body, HTTP_IDEMPOTENCY_KEY="c"
    )

    assert response.status_code == 201
    assert_no_store(response)


def test_answering_and_withdrawing_are_no_store(citizen: User, asked: Application) -> None:
    client = bearer(citizen)
    base = f"/api/v1/me/applications/{asked.number}"

    answer = _post_json(client, f"{base}/answer/", {"answer": "Attached"})
    withdraw = _post_json(client, f"{base}/withdraw/", {"comment": ""})

    assert (answer.status_code, withdraw.status_code) == (200, 200)
    assert_no_store(answer)
    assert_no_store(withdraw)


def test_the_agency_s_cases_are_no_store(application: Application, clerk: User) -> None:
    client = bearer(clerk)
    base = f"/api/v1/agency/cases/{application.number}"

    queue = client.get("/api/v1/agency/cases/")
    case = client.get(f"{base}/")
    claim = client.post(f"{base}/claim/")
    fired = _post_json(client, f"{base}/transitions/", {"transition": "approve", "comment": "ok"})

    assert [r.status_code for r in (queue, case, claim, fired)] == [200, 200, 200, 200]
    for response in (queue, case, claim, fired):
        assert_no_store(response)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/me/applications/"),
        ("get", "/api/v1/me/applications/MVD-2026-000001/"),
        ("post", "/api/v1/me/applications/MVD-2026-000001/withdraw/"),
        ("get", "/api/v1/agency/cases/"),
        ("post", "/api/v1/agency/cases/MVD-2026-000001/claim/"),
    ],
)
def test_errors_are_no_store(method: str, path: str, citizen: User) -> None:
    anonymous = getattr(ContractClient(), method)(path)
    assert anonymous.status_code == 401
    assert_no_store(anonymous)


def test_a_not_found_problem_and_a_bad_body_are_no_store(citizen: User) -> None:
    client = bearer(citizen)

    missing = client.get("/api/v1/me/applications/NO-SUCH-1/")
    nowhere = client.get("/api/v1/no-such-endpoint/")
    bad = client.generic(
        "POST",
        "/api/v1/me/applications/",
        json.dumps({"service": 1}),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k",
    )

    assert [r.status_code for r in (missing, nowhere, bad)] == [404, 404, 400]
    for response in (missing, nowhere, bad):
        assert_no_store(response)


def test_the_public_catalogue_may_be_cached() -> None:
    client = ContractClient()

    listing = client.get("/api/v1/catalogue/services/")
    service = client.get(f"/api/v1/catalogue/services/{CRIMINAL_RECORD}/")

    assert (listing.status_code, service.status_code) == (200, 200)
    assert "no-store" not in directives(listing)
    assert "no-store" not in directives(service)
    assert_no_store(client.get("/api/v1/catalogue/services/NO-SUCH/"))
