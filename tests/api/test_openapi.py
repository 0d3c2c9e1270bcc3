"""The committed OpenAPI document is the one the code produces, and it is a valid, complete
description of the API."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver
from openapi_spec_validator import validate

from tests.api import contract

pytestmark = pytest.mark.django_db

REGENERATE = (
    "docs/openapi.yaml is out of date: run `make openapi` "
    "(.venv/bin/egov spectacular --file docs/openapi.yaml --validate --fail-on-warn) "
    "and commit the result."
)


def test_committed_document_is_what_the_code_produces(tmp_path: Path) -> None:
    fresh = tmp_path / "openapi.yaml"
    call_command("spectacular", "--file", str(fresh), "--validate", "--fail-on-warn")
    assert fresh.read_text(encoding="utf-8") == contract.DOCUMENT.read_text(encoding="utf-8"), (
        REGENERATE
    )


def test_committed_document_is_valid_openapi() -> None:
    validate(contract.document())
    assert contract.document()["openapi"].startswith("3.0")


def _api_routes() -> list[str]:
    """Every route under /api/v1/ except the catch-all, as OpenAPI path templates."""
    resolver = get_resolver()
    api = next(
        item
        for item in resolver.url_patterns
        if isinstance(item, URLResolver) and item.namespace == "api"
    )
    routes = []
    for pattern in api.url_patterns:
        assert isinstance(pattern, URLPattern)
        if pattern.name == "not-found":
            continue
        route = str(pattern.pattern).replace("<str:", "{").replace(">", "}")
        routes.append(f"/api/v1/{route}")
    return routes


def test_every_route_is_documented() -> None:
    assert sorted(_api_routes()) == sorted(contract.document()["paths"])


def test_every_error_is_a_documented_problem() -> None:
    for path, item in contract.document()["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            where = f"{method.upper()} {path}"
            statuses = operation["responses"]
            assert any(status.startswith("2") for status in statuses), where
            for status, response in statuses.items():
                if status.startswith("2"):
                    assert list(response["content"]) == ["application/json"], where
                    continue
                schema = response["content"][contract.PROBLEM]["schema"]
                assert schema == {"$ref": contract.PROBLEM_SCHEMA}, where
            if operation.get("security") != [{}]:
                assert "401" in statuses, where
                assert "WWW-Authenticate" in statuses["401"]["headers"], where
                assert "403" in statuses, where
            if method == "post":
                assert "415" in statuses or "requestBody" not in operation, where


def test_submission_documents_the_idempotency_key_and_location() -> None:
    operation = contract.document()["paths"]["/api/v1/me/applications/"]["post"]
    header = next(p for p in operation["parameters"] if p["name"] == "Idempotency-Key")
    assert header["in"] == "header"
    assert header["required"] is True
    assert set(operation["responses"]) >= {"200", "201", "400", "401", "403", "409"}
    assert "Location" in operation["responses"]["201"]["headers"]
    assert set(operation["requestBody"]["content"]) == {
        "application/json",
        "multipart/form-data",
    }


def test_document_reads_the_same_in_every_language(tmp_path: Path) -> None:
    """Nothing in it is translated, so building it under another locale changes nothing."""
    documents = []
    for language in ("be", "ru", "en"):
        target = tmp_path / f"{language}.yaml"
        call_command("spectacular", "--lang", language, "--file", str(target))
        documents.append(yaml.safe_load(target.read_text(encoding="utf-8")))
    assert documents[0] == documents[1] == documents[2]
