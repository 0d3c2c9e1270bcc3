"""The registries' OpenAPI 3.0 documents, one per X-Road service code.

The YAML files under ``<app>/openapi/<service_code>.yaml`` are what the central registry
publishes in the global configuration. They are built here, written by
``egov registry openapi``, and a test fails when a committed file differs from a fresh build
or when a real response does not match its schema."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent


@dataclass(frozen=True)
class ServiceDoc:
    app: str
    member: str
    subsystem: str
    code: str
    base_path: str
    title: str
    description: str
    personal_data: bool
    path: str
    parameter: dict[str, Any] | None
    schema: str
    not_found: bool

    @property
    def service_id(self) -> str:
        return f"BY/GOV/{self.member}/{self.subsystem}/{self.code}"

    @property
    def file(self) -> Path:
        return ROOT / self.app / "openapi" / f"{self.code}.yaml"


def _string(description: str = "", **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", **extra}
    if description:
        schema["description"] = description
    return schema


def _object(properties: dict[str, Any], description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "required": list(properties),
        "properties": properties,
    }
    if description:
        schema["description"] = description
    return schema


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_DATE = {"type": "string", "format": "date"}
# OpenAPI 3.0 has no "null" type: a nullable object that can only be null.
_NULL = {"type": "object", "nullable": True, "enum": [None]}
_NULLABLE_DATE = {"type": "string", "format": "date", "nullable": True}
_PERSONAL_NUMBER = _string(
    "Identification number: 14 characters, e.g. 3010180A001PB8.",
    pattern="^[1-6][0-9]{6}[A-Z][0-9]{3}[A-Z]{2}[0-9]$",
)
_UNP = _string("Payer account number (УНП), 9 characters.", pattern="^[0-9A-Z]{9}$")

SCHEMAS: dict[str, dict[str, Any]] = {
    "Problem": _object(
        {
            "type": _string("URI of the problem type."),
            "title": _string(),
            "status": {"type": "integer"},
            "code": _string(
                "Stable machine-readable code.",
                enum=[
                    "gateway_required",
                    "method_not_allowed",
                    "purpose_required",
                    "invalid_purposes",
                    "invalid_identifier",
                    "invalid_parameter",
                    "not_found",
                    "bad_request",
                    "server_error",
                ],
            ),
            "detail": _string(),
        },
        "RFC 9457 problem details.",
    ),
    "Names": _object(
        {"be": _string(), "ru": _string(), "lat": _string("Latin letters, from Belarusian.")}
    ),
    "Text": _object({"be": _string(), "ru": _string()}),
    "Localised": _object({"be": _string(), "ru": _string(), "en": _string()}),
    "Purpose": _object(
        {
            "code": _string("Purpose code of the access right, e.g. prefill or check."),
            "text": _ref("Localised"),
            "legal_basis": _ref("Localised"),
        },
        "A purpose of the access right the call was made under, as the central registry "
        "declares it.",
    ),
    "Address": _object(
        {
            "id": {"type": "integer"},
            "postal_code": _string(),
            "locality": _string('With its type, e.g. "г. Минск".'),
            "street": _string(),
            "house": _string(),
            "flat": _string(),
            "text": _ref("Text"),
        }
    ),
    "Document": _object(
        {
            "type": _string(enum=["passport", "id_card", "birth_certificate"]),
            "number": _string(),
            "issued_on": _DATE,
            "valid_until": _NULLABLE_DATE,
            "authority": _string(),
        }
    ),
    "Person": _object(
        {
            "personal_number": _PERSONAL_NUMBER,
            "last_name": _ref("Names"),
            "first_name": _ref("Names"),
            "patronymic": _ref("Names"),
            "birth_date": _DATE,
            "sex": _string(enum=["M", "F"]),
            "citizenship": _string("ISO 3166-1 alpha-2."),
            "status": _string(enum=["alive", "deceased"]),
            "death_date": _NULLABLE_DATE,
            "address": {
                "anyOf": [_ref("Address"), _NULL],
                "description": "Registered place of residence; null when none.",
            },
            "documents": {"type": "array", "items": _ref("Document")},
        }
    ),
    "PersonSummary": _object(
        {
            "personal_number": _PERSONAL_NUMBER,
            "last_name": _ref("Names"),
            "first_name": _ref("Names"),
            "patronymic": _ref("Names"),
            "birth_date": _DATE,
            "status": _string(enum=["alive", "deceased"]),
        }
    ),
    "Family": _object(
        {
            "personal_number": _PERSONAL_NUMBER,
            "parents": {"type": "array", "items": _ref("PersonSummary")},
            "children": {"type": "array", "items": _ref("PersonSummary")},
            "spouse": {
                "anyOf": [_ref("PersonSummary"), _NULL],
                "description": "The spouse of the current marriage, or null.",
            },
        }
    ),
    "AddressHistory": _object(
        {
            "personal_number": _PERSONAL_NUMBER,
            "addresses": {
                "type": "array",
                "description": "Oldest first.",
                "items": _object(
                    {
                        "address": _ref("Address"),
                        "from": _DATE,
                        "until": _NULLABLE_DATE,
                        "kind": _string(enum=["residence", "stay"]),
                    }
                ),
            },
        }
    ),
    "Event": _object(
        {
            "id": {"type": "integer"},
            "type": _string(
                enum=["birth", "death", "marriage", "address_change", "company_registered"]
            ),
            "at": _string(format="date-time"),
            "subject": _string("Identification number or УНП."),
            "data": {"type": "object", "additionalProperties": True},
        }
    ),
    "Events": _object(
        {
            "events": {"type": "array", "items": _ref("Event")},
            "next": {
                "type": "integer",
                "nullable": True,
                "description": "The after of the next page; null at the end of the feed.",
            },
        }
    ),
    "AccessLog": _object(
        {
            "personal_number": _PERSONAL_NUMBER,
            "accesses": {
                "type": "array",
                "description": "Newest first, at most 200.",
                "items": _object(
                    {
                        "at": _string(format="date-time"),
                        "client": _string("Client subsystem, e.g. BY/GOV/MVD/backoffice."),
                        "member": _string(),
                        "service": _string(),
                        "data": _string(),
                        "purposes": {"type": "array", "items": _ref("Purpose")},
                        "issue": _string("X-Road-Issue: e.g. the application number."),
                        "user_id": _string("X-Road-UserId; empty when none was given."),
                        "message_id": _string(
                            "X-Road-Id: the client's own reference for the call."
                        ),
                        "request_id": _string(
                            "X-Road-Request-Id: the id the provider gateway gave the call and "
                            "signed into its record of it; empty when the gateway set none."
                        ),
                    }
                ),
            },
        }
    ),
    "Entity": _object(
        {
            "unp": _UNP,
            "name": _ref("Text"),
            "short_name": _ref("Text"),
            "legal_form": _string(enum=["llc", "jsc", "unitary", "sole_trader"]),
            "status": _string(enum=["active", "liquidating", "liquidated"]),
            "registered_on": _DATE,
            "address": _ref("Address"),
            "directors": {
                "type": "array",
                "items": _object(
                    {"personal_number": _PERSONAL_NUMBER, "full_name": _string(), "since": _DATE}
                ),
            },
        }
    ),
    "DirectedBy": _object(
        {
            "personal_number": _PERSONAL_NUMBER,
            "entities": {
                "type": "array",
                "items": _object(
                    {
                        "unp": _UNP,
                        "name": _ref("Text"),
                        "short_name": _ref("Text"),
                        "legal_form": _string(enum=["llc", "jsc", "unitary", "sole_trader"]),
                        "status": _string(enum=["active", "liquidating", "liquidated"]),
                        "since": _DATE,
                    }
                ),
            },
        }
    ),
    "Addresses": _object({"addresses": {"type": "array", "items": _ref("Address")}}),
}

_PN_PARAMETER = {
    "name": "personal_number",
    "in": "path",
    "required": True,
    "schema": _PERSONAL_NUMBER,
}
_PAGING = [
    {
        "name": "after",
        "in": "query",
        "required": False,
        "description": "Return events with a greater id (default 0).",
        "schema": {"type": "integer", "minimum": 0},
    },
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "description": "At most this many events (default 100, at most 500).",
        "schema": {"type": "integer", "minimum": 1, "maximum": 500},
    },
]

_POPULATION = "/registries/population/v1"
_ENTITIES = "/registries/legal-entities/v1"

SERVICES: tuple[ServiceDoc, ...] = (
    ServiceDoc("population", "MVD", "population", "person", f"{_POPULATION}/persons",
               "Person", "A person's names, birth, status, registered address and documents.",
               True, "/{personal_number}", _PN_PARAMETER, "Person", True),
    ServiceDoc("population", "MVD", "population", "family", f"{_POPULATION}/family",
               "Family", "A person's parents, children and current spouse.",
               True, "/{personal_number}", _PN_PARAMETER, "Family", True),
    ServiceDoc("population", "MVD", "population", "address-history",
               f"{_POPULATION}/address-history", "Address history",
               "A person's registrations at places of residence and of stay.",
               True, "/{personal_number}", _PN_PARAMETER, "AddressHistory", True),
    ServiceDoc("population", "MVD", "population", "events", f"{_POPULATION}/events",
               "Population events",
               "Births, deaths, marriages and changes of address, in the order recorded. "
               "Each person an events page tells about gets a data-access record.",
               True, "/", None, "Events", False),
    ServiceDoc("population", "MVD", "population", "data-access-log",
               f"{_POPULATION}/data-access-log", "Who received a person's data",
               "Calls of the population register's personal-data services about a person, "
               "newest first. Reading the log is not itself recorded.",
               True, "/{personal_number}", _PN_PARAMETER, "AccessLog", False),
    ServiceDoc("legal_entities", "MINJUST", "legal-entities", "entity", f"{_ENTITIES}/entities",
               "Legal entity",
               "A company or sole trader by УНП: names, status, address, directors. The "
               "directors are personal data: each call is recorded for each of them.",
               True, "/{unp}", {"name": "unp", "in": "path", "required": True, "schema": _UNP},
               "Entity", True),
    ServiceDoc("legal_entities", "MINJUST", "legal-entities", "directed-by",
               f"{_ENTITIES}/directed-by", "Entities a person heads",
               "The legal entities a person is director (or sole trader) of now.",
               True, "/{personal_number}", _PN_PARAMETER, "DirectedBy", False),
    ServiceDoc("legal_entities", "MINJUST", "legal-entities", "events", f"{_ENTITIES}/events",
               "Legal entity events", "Registrations of companies, in the order recorded.",
               False, "/", None, "Events", False),
    ServiceDoc("legal_entities", "MINJUST", "legal-entities", "data-access-log",
               f"{_ENTITIES}/data-access-log", "Who received a person's directorships",
               "Calls of entity and directed-by that named the person, newest first; not "
               "itself recorded.",
               True, "/{personal_number}", _PN_PARAMETER, "AccessLog", False),
    ServiceDoc("addresses", "NKA", "addresses", "address", "/registries/addresses/v1/addresses",
               "Address", "An address by id, or addresses whose text contains the words of q.",
               False, "/{address_id}",
               {"name": "address_id", "in": "path", "required": True,
                "schema": {"type": "integer", "minimum": 1}},
               "Address", True),
)  # fmt: skip


def _header(name: str, description: str, *, required: bool = False) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": required,
        "description": description,
        "schema": {"type": "string"},
    }


def _headers(personal_data: bool) -> list[dict[str, Any]]:
    return [
        _header("X-Road-Client", "Client subsystem id, e.g. BY/GOV/NCES/portal."),
        _header("X-Road-Service", "Service id, e.g. BY/GOV/MVD/population/person."),
        _header("X-Road-Id", "Message id (UUID)."),
        _header(
            "X-Road-UserId",
            "The person asking, e.g. BY + identification number; recorded when given.",
        ),
        _header("X-Road-Issue", "What the call is for, e.g. the application number."),
    ] + (
        [
            _header(
                "X-Egov-Purposes",
                "Set by the provider gateway, never by the client: a JSON array (ASCII) of "
                "the purposes in effect, each {code, text: {be, ru, en}, legal_basis: "
                "{be, ru, en}}.",
                required=True,
            )
        ]
        if personal_data
        else []
    )


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": _ref("Problem")}},
    }


def _used_schemas(name: str) -> set[str]:
    found = {name}
    pending = [SCHEMAS[name]]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            reference = node.get("$ref")
            if isinstance(reference, str):
                target = reference.rsplit("/", 1)[-1]
                if target not in found:
                    found.add(target)
                    pending.append(SCHEMAS[target])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return found


def openapi_document(service: ServiceDoc) -> dict[str, Any]:
    parameters = _headers(service.personal_data)
    if service.parameter is not None:
        parameters = [service.parameter, *parameters]
    if service.code == "events":
        parameters = [*_PAGING, *parameters]
    if service.code == "address":
        parameters = [*parameters]
    responses: dict[str, Any] = {
        "200": {
            "description": "OK",
            "content": {"application/json": {"schema": _ref(service.schema)}},
        },
        "400": _problem(
            "purpose_required (personal data without X-Egov-Purposes), invalid_purposes, "
            "invalid_identifier or invalid_parameter."
        ),
        "403": _problem(
            "gateway_required: the call did not come through the exchange with this provider's key."
        ),
        "405": _problem("method_not_allowed: only GET."),
    }
    if service.not_found:
        responses["404"] = _problem("not_found: the register holds no such record.")
    responses["default"] = _problem(
        "Any other error, e.g. not_found for an address no service answers, server_error."
    )
    paths: dict[str, Any] = {
        service.path: {
            "get": {
                "operationId": service.code.replace("-", "_") + "_get",
                "summary": service.title,
                "parameters": parameters,
                "responses": responses,
            }
        }
    }
    if service.code == "address":
        search_responses = {key: value for key, value in responses.items() if key != "404"}
        search_responses["200"] = {
            "description": "At most 20 addresses.",
            "content": {"application/json": {"schema": _ref("Addresses")}},
        }
        paths["/"] = {
            "get": {
                "operationId": "address_search",
                "summary": "Address search",
                "parameters": [
                    {
                        "name": "q",
                        "in": "query",
                        "required": True,
                        "description": "Words of the address (at least three characters).",
                        "schema": {"type": "string", "minLength": 3},
                    },
                    *_headers(False),
                ],
                "responses": search_responses,
            }
        }
    names = _used_schemas(service.schema) | {"Problem"}
    if service.code == "address":
        names |= _used_schemas("Addresses")
    return {
        "openapi": "3.0.3",
        "info": {
            "title": service.title,
            "version": "1.0.0",
            "description": (
                f"{service.description}\n\nX-Road service {service.service_id}. Reachable only "
                "through the exchange: the provider gateway adds the provider's own "
                "X-Egov-Gateway-Key."
                + (
                    " Personal data: every successful call is recorded for the data-access log."
                    if service.personal_data and service.code != "data-access-log"
                    else ""
                )
            ),
        },
        "servers": [{"url": service.base_path}],
        "security": [{"gatewayKey": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "gatewayKey": {"type": "apiKey", "in": "header", "name": "X-Egov-Gateway-Key"}
            },
            "schemas": {name: copy.deepcopy(SCHEMAS[name]) for name in sorted(names)},
        },
    }


def openapi_yaml(service: ServiceDoc) -> str:
    return yaml.safe_dump(openapi_document(service), allow_unicode=True, sort_keys=False, width=100)


def openapi_write() -> list[Path]:
    written = []
    for service in SERVICES:
        service.file.parent.mkdir(parents=True, exist_ok=True)
        service.file.write_text(openapi_yaml(service), encoding="utf-8")
        written.append(service.file)
    return written
