"""The registries' process answers machines: every error is problem+json as the services'
OpenAPI documents say, never Django's HTML pages — unknown paths, trailing slashes, other
methods, a failure inside a service."""

from __future__ import annotations

import pytest

from egov.registries.population.models import DataAccess

from .conftest import LEGAL_ENTITIES, gateway_headers

pytestmark = [pytest.mark.urls("egov.registries.urls"), pytest.mark.django_db]

ALENA = "4150592M012PB5"
UNKNOWN = {
    "type": "https://egov.example/problems/not_found",
    "title": "Not found",
    "status": 404,
    "code": "not_found",
    "detail": "The registries have no service at this address. See the service's OpenAPI document.",
}


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/admin/",
        "/en/",
        "/registries/",
        "/registries/population/v1/",
        "/registries/population/v2/persons/4150592M012PB5",
        "/registries/population/v1/persons",
        "/registries/population/v1/persons/",
        f"/registries/population/v1/persons/{ALENA}/",
        f"/registries/population/v1/persons/{ALENA}/family",
        "/registries/population/v1/people/4150592M012PB5",
        "/registries/legal-entities/v1/entities/192541238/",
        "/registries/addresses/v1/addresses/1/",
        "/registries/addresses/v1/addresses//",
        "/r1/BY/GOV/MVD/population/person/4150592M012PB5",
    ],
)
@pytest.mark.parametrize("method", ["get", "post", "put", "delete", "head", "options"])
def test_an_address_no_service_answers_is_a_json_404(client, demo_people, path, method):
    response = getattr(client, method)(path, HTTP_ACCEPT_LANGUAGE="en", **gateway_headers())
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    if method != "head":
        assert response.json() == UNKNOWN
    assert "Location" not in response
    assert not DataAccess.objects.exists()


def test_the_404_speaks_the_language_of_the_request(client):
    response = client.get("/nowhere", HTTP_ACCEPT_LANGUAGE="be")
    assert response.status_code == 404
    assert response.json()["title"] != "Not found"
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "head", "options"])
def test_another_method_on_a_service_is_a_json_405(client, demo_people, method):
    response = getattr(client, method)(
        f"/registries/population/v1/persons/{ALENA}",
        HTTP_ACCEPT_LANGUAGE="en",
        **gateway_headers(),
    )
    assert response.status_code == 405
    assert response["Content-Type"] == "application/problem+json"
    assert response["Allow"] == "GET"
    if method != "head":
        assert response.json()["code"] == "method_not_allowed"
    assert not DataAccess.objects.exists()


def test_a_failure_inside_a_service_is_a_json_500(client, demo_people, monkeypatch):
    from egov.registries.legal_entities import selectors

    def broken(**_arguments: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(selectors, "entity_get", broken)
    client.raise_request_exception = False
    response = client.get(
        "/registries/legal-entities/v1/entities/192541238",
        HTTP_ACCEPT_LANGUAGE="en",
        **gateway_headers(LEGAL_ENTITIES),
    )
    assert response.status_code == 500
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": "https://egov.example/problems/server_error",
        "title": "Internal error",
        "status": 500,
        "code": "server_error",
        "detail": "The register failed to answer. Try again later.",
    }
    assert "the database went away" not in response.content.decode()


def test_a_host_not_allowed_is_a_json_400(client, settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    client.raise_request_exception = False
    response = client.get(
        f"/registries/population/v1/persons/{ALENA}",
        HTTP_HOST="evil.example",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "bad_request"
