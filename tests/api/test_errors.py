"""Every error under /api/v1/ is a problem (application/problem+json): never HTML, never a
redirect to a page, never a 500 for something a client did."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from egov.api import views
from egov.identity.api_auth import api_token_issue
from egov.identity.models import ApiToken, User
from tests.api.conftest import ContractClient, bearer

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/",
        "/api/v1/nothing-here/",
        "/api/v1/catalogue/services",
        "/api/v1/me/applications/X/unknown/",
        "/api/v1/agency/",
        "/api/v1",
    ],
)
@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
def test_unknown_address_is_a_404_problem(
    anonymous: ContractClient, citizen: User, path: str, method: str
) -> None:
    for client in (anonymous, bearer(citizen)):
        response = getattr(client, method)(path, follow=True)

        assert response.status_code == 404
        assert response["Content-Type"] == PROBLEM
        assert response.json()["code"] == "not_found"
        assert response.redirect_chain in ([], [("/api/v1/", 301)])


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("put", "/api/v1/catalogue/services/", "GET"),
        ("delete", "/api/v1/catalogue/services/200.13.1/", "GET"),
        ("patch", "/api/v1/me/applications/", "GET, POST"),
        ("get", "/api/v1/me/applications/X/withdraw/", "POST"),
        ("delete", "/api/v1/agency/cases/X/", "GET"),
        ("options", "/api/v1/catalogue/services/", "GET"),
    ],
)
def test_wrong_method_is_a_405_problem(
    citizen: User, clerk: User, method: str, path: str, allowed: str
) -> None:
    client = bearer(clerk if "agency" in path else citizen)

    response = getattr(client, method)(path)

    assert response.status_code == 405
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "method_not_allowed"
    assert response["Allow"].replace(", HEAD", "") == allowed


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer egov_not-a-token",
        "Bearer",
        "Bearer two tokens",
        "Bearer \u00e9",
        "bearer egov_" + "x" * 500,
    ],
)
def test_bad_token_is_a_401_problem(authorization: str) -> None:
    client = ContractClient()
    client.credentials(HTTP_AUTHORIZATION=authorization)

    response = client.get("/api/v1/me/applications/")

    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json()["code"] == "authentication_failed"


def test_expired_token_is_a_401_problem(citizen: User) -> None:
    client = bearer(citizen)
    ApiToken.objects.filter(user=citizen).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = client.get("/api/v1/me/applications/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 401
    assert response.json()["detail"] == "The token is not valid or has expired."


def test_token_of_a_deactivated_account_is_a_401_problem(citizen: User) -> None:
    client = bearer(citizen)
    User.objects.filter(pk=citizen.pk).update(is_active=False)

    assert client.get("/api/v1/me/applications/").status_code == 401


def test_a_token_works_until_it_expires(citizen: User) -> None:
    token = api_token_issue(user=citizen, name="short", assurance="substantial", days=1)
    client = ContractClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    assert client.get("/api/v1/me/applications/").status_code == 200


def test_problem_text_follows_accept_language(anonymous: ContractClient) -> None:
    english = anonymous.get("/api/v1/me/applications/", HTTP_ACCEPT_LANGUAGE="en").json()
    russian = anonymous.get("/api/v1/me/applications/", HTTP_ACCEPT_LANGUAGE="ru").json()

    assert english["detail"] == "Authentication credentials were not provided."
    assert russian["detail"] != english["detail"]
    assert english["code"] == russian["code"] == "not_authenticated"


def test_unexpected_failure_is_a_500_problem_not_a_page(
    citizen: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(views.cases, "applications_of", broken)
    client = APIClient()  # a 500 is deliberately not part of the documented contract
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=citizen, name='t', assurance='low')}"
    )

    response = client.get("/api/v1/me/applications/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 500
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "server_error"
    assert "fire" not in response.content.decode()


def test_too_many_files_is_a_problem_not_a_page(
    citizen: User, settings: Any, unchanged: Any
) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    from tests.api.conftest import pdf

    with unchanged():
        response = bearer(citizen).post(
            "/api/v1/me/applications/",
            {"payload": "{}", "a": pdf(), "b": pdf(), "c": pdf()},
            format="multipart",
            HTTP_IDEMPOTENCY_KEY="k",
        )

    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "too_many_parts"


def test_body_over_the_upload_limit_is_a_413_problem(
    citizen: User, settings: Any, unchanged: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    with unchanged():
        response = bearer(citizen).post(
            "/api/v1/me/applications/",
            {"service": "x", "answers": {"a": "x" * 2000}},
            format="json",
            HTTP_IDEMPOTENCY_KEY="k",
        )

    assert response.status_code == 413
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "request_too_large"


def test_api_is_not_redirected_into_a_language_prefix(anonymous: ContractClient) -> None:
    """The portal's addresses carry a language; the API's do not, and a 404 under /api/v1/
    stays a 404 rather than a redirect to /be/api/v1/..."""
    response = anonymous.get("/api/v1/accessibility/")

    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM


def test_answers_vary_by_language(anonymous: ContractClient) -> None:
    response = anonymous.get("/api/v1/catalogue/services/", HTTP_ACCEPT_LANGUAGE="ru")

    assert "Accept-Language" in response["Vary"]
    assert response["Content-Language"] == "ru"
