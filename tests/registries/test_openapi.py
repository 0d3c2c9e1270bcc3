"""The committed OpenAPI documents are current, valid, and describe what the services answer."""

from typing import Any

import pytest
import yaml
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from egov.registries.addresses.models import Address
from egov.registries.openapi import SERVICES, openapi_yaml

from .conftest import gateway_headers

pytestmark = [pytest.mark.urls("egov.registries.urls"), pytest.mark.django_db]


@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.code)
def test_committed_document_is_valid_and_current(service):
    text = service.file.read_text(encoding="utf-8")
    assert text == openapi_yaml(service), "run: egov registry openapi"
    document = yaml.safe_load(text)
    validate(document)
    assert document["servers"] == [{"url": service.base_path}]


def _check(document: dict[str, Any], path: str, status: str, body: Any) -> None:
    operation = document["paths"][path]["get"]
    content = operation["responses"][status]["content"]
    media = "application/json" if status == "200" else "application/problem+json"
    schema = {"allOf": [content[media]["schema"]], "components": document["components"]}
    OAS30Validator(schema).validate(body)


CALLS = [
    ("person", "/{personal_number}", "/4150592M012PB5"),
    ("person", "/{personal_number}", "/4190183A005PB9"),
    ("family", "/{personal_number}", "/5030620M045PB9"),
    ("family", "/{personal_number}", "/4150592M012PB5"),
    ("address-history", "/{personal_number}", "/4150592M012PB5"),
    ("events", "/", "?after=0&limit=5"),
    ("data-access-log", "/{personal_number}", "/4150592M012PB5"),
    ("entity", "/{unp}", "/192541238"),
    ("directed-by", "/{personal_number}", "/3010180A001PB8"),
    ("address", "/", "?q=Максіма Танка"),
]


@pytest.mark.parametrize(("code", "path", "suffix"), CALLS)
def test_real_responses_match_the_schemas(client, demo_people, code, path, suffix):
    from egov.registries.population.generator import registry_generate

    registry_generate(persons=60, companies=5, seed=11)
    service = next(
        s for s in SERVICES if s.code == code and (code != "events" or s.app == "population")
    )
    document = yaml.safe_load(service.file.read_text(encoding="utf-8"))
    headers = gateway_headers(f"BY/GOV/{service.member}/{service.subsystem}")
    response = client.get(service.base_path + suffix, **headers)
    assert response.status_code == 200, response.content
    _check(document, path, "200", response.json())
    for bad in ("/0000000A000PB0", "/x"):
        if path == "/":
            continue
        problem = client.get(service.base_path + bad, **headers)
        assert problem.status_code in (400, 404)
        _check(document, path, str(problem.status_code), problem.json())


def test_address_by_id_matches_the_schema(client, demo_people):
    service = next(s for s in SERVICES if s.code == "address")
    document = yaml.safe_load(service.file.read_text(encoding="utf-8"))
    address = Address.objects.order_by("id").first()
    assert address is not None
    headers = gateway_headers(f"BY/GOV/{service.member}/{service.subsystem}")
    body = client.get(f"{service.base_path}/{address.pk}", **headers).json()
    _check(document, "/{address_id}", "200", body)
    refused = client.get(f"{service.base_path}/{address.pk}")
    _check(document, "/{address_id}", "403", refused.json())
