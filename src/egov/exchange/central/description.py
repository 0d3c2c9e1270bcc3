"""The exchange description that ``egov exchange setup --file`` reads: a country's instance,
member classes, members, subsystems, services, gateways, purposes and access rights.

Its format is a JSON Schema (``schema/exchange-description.schema.json``, copied to
``docs/``; explained in ``docs/exchange-description.md``). :func:`description_validate`
checks the schema and then what a schema cannot say (codes that must be unique, names that
must refer to something described) and reports every problem with its exact place, e.g.
``members[2].subsystems[0].gateway`` — before anything is written.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from egov.exchange.central.errors import ExchangeSetupInvalid
from egov.exchange.endpoints import EndpointError, endpoint_validate

SCHEMA_FILE = Path(__file__).resolve().parent / "schema" / "exchange-description.schema.json"


class DescriptionInvalid(ExchangeSetupInvalid):
    """The description breaks its format; ``problems`` are ``"<path>: <what>"`` lines."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            "The exchange description is not valid:\n"
            + "\n".join(f"  {problem}" for problem in problems)
        )


@cache
def description_schema() -> dict[str, Any]:
    with SCHEMA_FILE.open(encoding="utf-8") as handle:
        return dict(json.load(handle))


def _path(parts: Iterable[Any]) -> str:
    """``["members", 2, "code"]`` → ``members[2].code``."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(description)"


def _schema_problems(data: Any) -> list[str]:
    validator = jsonschema.Draft202012Validator(description_schema())
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.path))):
        best = _most_telling(error)
        problems.append(f"{_path(best.absolute_path)}: {best.message}")
    return problems


def _most_telling(error: jsonschema.ValidationError) -> jsonschema.ValidationError:
    """A oneOf/anyOf error says only "is not valid under any of the given schemas": the
    alternative of the value's own type says what is wrong (70000 for a port: too large)."""
    if not error.context:
        return error
    same_type = [item for item in error.context if item.validator != "type"]
    return _most_telling(jsonschema.exceptions.best_match(same_type or error.context) or error)


def description_validate(
    data: Any, *, registries_url: str = "", base_dir: Path | None = None
) -> None:
    """Raise :class:`DescriptionInvalid` listing every problem, or return quietly.

    ``registries_url`` is where services with a ``base_path`` are forwarded to (required
    when one has it); ``base_dir`` is the description's folder, which ``openapi`` files are
    relative to."""
    problems = _schema_problems(data)
    if not problems:
        problems = list(_reference_problems(data, registries_url=registries_url, base_dir=base_dir))
    if problems:
        raise DescriptionInvalid(problems)


def _duplicates(items: list[Mapping[str, Any]], where: str) -> Iterator[str]:
    seen: set[str] = set()
    for index, item in enumerate(items):
        code = str(item["code"])
        if code in seen:
            yield f"{where}[{index}].code: {code!r} is given twice"
        seen.add(code)


def _endpoints(endpoints: list[Mapping[str, str]], where: str) -> Iterator[str]:
    for index, endpoint in enumerate(endpoints):
        try:
            endpoint_validate(endpoint["method"], endpoint["path"])
        except EndpointError as error:
            yield f"{where}[{index}]: {error}"


def _reference_problems(
    data: Mapping[str, Any], *, registries_url: str, base_dir: Path | None
) -> Iterator[str]:
    instance = data["instance"]
    classes = [item["code"] for item in data["member_classes"]]
    gateways = [item["code"] for item in data.get("gateways", [])]
    members = data.get("members", [])
    member_codes = [member["code"] for member in members]
    yield from _duplicates(data["member_classes"], "member_classes")
    yield from _duplicates(data.get("gateways", []), "gateways")
    yield from _duplicates(members, "members")
    for index, gateway in enumerate(data.get("gateways", [])):
        if gateway["owner"] not in member_codes:
            yield (
                f"gateways[{index}].owner: {gateway['owner']!r} is not the code of a member "
                "of this description"
            )
    clients: set[str] = set()
    services: dict[str, bool] = {}
    for m, member in enumerate(members):
        where = f"members[{m}]"
        if member["class"] not in classes:
            yield (
                f"{where}.class: {member['class']!r} is not one of the member classes "
                f"({', '.join(classes)})"
            )
        if member.get("gateway") and member["gateway"] not in gateways:
            yield f"{where}.gateway: {member['gateway']!r} is not one of the gateways"
        identifier = f"{instance}/{member['class']}/{member['code']}"
        clients.add(identifier)
        subsystems = member.get("subsystems", [])
        yield from _duplicates(subsystems, f"{where}.subsystems")
        for s, subsystem in enumerate(subsystems):
            at = f"{where}.subsystems[{s}]"
            if subsystem.get("gateway") and subsystem["gateway"] not in gateways:
                yield f"{at}.gateway: {subsystem['gateway']!r} is not one of the gateways"
            provider = f"{identifier}/{subsystem['code']}"
            clients.add(provider)
            provided = subsystem.get("services", [])
            yield from _duplicates(provided, f"{at}.services")
            for v, service in enumerate(provided):
                place = f"{at}.services[{v}]"
                services[f"{provider}/{service['code']}"] = bool(service.get("personal_data"))
                yield from _endpoints(service.get("endpoints", []), f"{place}.endpoints")
                if service.get("base_path") and not registries_url:
                    yield (
                        f"{place}.base_path: give the registries' address with "
                        "--registries-url (the base path is appended to it)"
                    )
                openapi = Path(base_dir or ".") / str(service.get("openapi", ""))
                if service.get("openapi") and not openapi.is_file():
                    yield f"{place}.openapi: {openapi} is not a file"
    purposes = data.get("purposes", {})
    for r, group in enumerate(data.get("access_rights", [])):
        where = f"access_rights[{r}]"
        for p, code in enumerate(group.get("purposes", [])):
            if code not in purposes:
                yield f"{where}.purposes[{p}]: {code!r} is not one of the purposes"
        yield from _endpoints(group.get("endpoints", []), f"{where}.endpoints")
        named_clients = (
            [(f"{where}.clients[{i}]", c) for i, c in enumerate(group["clients"])]
            if "clients" in group
            else [(f"{where}.client", group["client"])]
        )
        for place, client in named_clients:
            if client not in clients:
                yield (
                    f"{place}: {client!r} is not a member or subsystem of this description "
                    f"({instance}/CLASS/MEMBER[/SUBSYSTEM])"
                )
        named_services = (
            [(f"{where}.services[{i}]", s) for i, s in enumerate(group["services"])]
            if "services" in group
            else [(f"{where}.service", group["service"])]
        )
        for place, service in named_services:
            if service not in services:
                yield (
                    f"{place}: {service!r} is not a service of this description "
                    f"({instance}/CLASS/MEMBER/SUBSYSTEM/SERVICE)"
                )
            elif services[service] and not group.get("purposes"):
                yield (
                    f"{place}: {service} holds personal data: the right needs at least one purpose"
                )
