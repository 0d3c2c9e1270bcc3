"""The committed OpenAPI document as a contract: every response the tests receive from
/api/v1/ is checked against the operation and status it documents.

The check is stricter than the document alone: an object schema that lists its properties
accepts no others, so a field the API sends but the document does not describe fails too.
"""

from __future__ import annotations

import copy
import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "docs" / "openapi.yaml"
URI = "urn:egov:openapi"
API_PREFIX = "/api/v1/"
PROBLEM = "application/problem+json"
PROBLEM_SCHEMA = "#/components/schemas/Problem"


@cache
def document() -> dict[str, Any]:
    with DOCUMENT.open(encoding="utf-8") as handle:
        return dict(yaml.safe_load(handle))


def _closed(schema: Any) -> Any:
    """Objects that list their properties accept no others."""
    if isinstance(schema, dict):
        schema = {key: _closed(value) for key, value in schema.items()}
        if "properties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    return schema


@cache
def registry() -> Registry:
    contents = copy.deepcopy(document())
    contents["components"] = _closed(contents["components"])
    contents["paths"] = _closed(contents["paths"])
    return Registry().with_resource(URI, Resource.from_contents(contents, DRAFT4))


@cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    patterns = []
    for template in document()["paths"]:
        parts = re.split(r"\{[^/}]+\}", template)
        regex = "[^/]+".join(re.escape(part) for part in parts)
        patterns.append((re.compile(f"^{regex}$"), template))
    return patterns


def path_template(path: str) -> str | None:
    return next((template for regex, template in _templates() if regex.match(path)), None)


def _escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


def validate(instance: Any, pointer: str) -> None:
    """Validate against the schema at ``pointer`` (a JSON pointer into the document)."""
    validator = OAS30ReadValidator(
        {"$ref": f"{URI}{pointer}"}, registry=registry(), format_checker=oas30_format_checker
    )
    errors = sorted(validator.iter_errors(instance), key=lambda error: list(error.path))
    assert not errors, "Response does not match the OpenAPI document:\n" + "\n".join(
        f"- at {'/'.join(map(str, error.path)) or '(root)'}: {error.message}"
        for error in errors[:10]
    )


def _check_problem(response: Any) -> None:
    assert response["Content-Type"].split(";")[0] == PROBLEM, response["Content-Type"]
    body = response.json()
    validate(body, PROBLEM_SCHEMA)
    assert body["status"] == response.status_code


def check(response: Any, method: str, path: str) -> None:
    """Assert the response is one the document promises for this method and path."""
    method = method.lower()
    if method == "head":
        return
    template = path_template(path)
    operation = document()["paths"][template].get(method) if template else None
    if template is None or operation is None:
        # Not an operation of the API: only the catch-all 404 or a 405 may answer.
        assert response.status_code in (404, 405), (method, path, response.status_code)
        _check_problem(response)
        return
    status = str(response.status_code)
    responses = operation["responses"]
    assert status in responses, (
        f"{method.upper()} {template} answered {status}, which the document does not list "
        f"(it lists {', '.join(responses)})"
    )
    spec = responses[status]
    for header in spec.get("headers", {}):
        assert response.has_header(header), f"{method.upper()} {template} {status}: no {header}"
    content = spec.get("content")
    if not content:
        assert not response.content
        return
    media_type = response["Content-Type"].split(";")[0].strip()
    assert media_type in content, (
        f"{method.upper()} {template} {status} is {media_type}, the document says "
        f"{', '.join(content)}"
    )
    pointer = "/".join(
        [
            "#",
            "paths",
            _escape(template),
            method,
            "responses",
            status,
            "content",
            _escape(media_type),
            "schema",
        ]
    )
    validate(response.json(), pointer)
    if media_type == PROBLEM:
        assert response.json()["status"] == response.status_code
