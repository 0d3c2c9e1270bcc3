"""Service definitions: the form, documents, workflow and deadline of a service, as data.

A definition is checked in two passes. The first is the JSON Schema of the format itself
(``schema/service-definition.schema.json``, published as ``docs/service-definition.schema.json``);
the second checks what a schema cannot: that every name refers to something that exists,
that final states are final and that the form's own schema is a valid JSON Schema. Either
pass reports the exact path of the first problem, e.g. ``workflow.transitions[2].to``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from egov.core.errors import ApplicationError
from egov.core.plugins import Registry

SCHEMA_FILE = Path(__file__).resolve().parent / "schema" / "service-definition.schema.json"

APPLICANT = "applicant"
SYSTEM = "system"
OFFICIAL_ACTORS = ("clerk", "decision_maker")
DECISION_OUTCOMES = ("approved", "refused")
CHOICE_WIDGETS = ("radios", "select", "checkboxes")

#: Handlers of the workflow's extension actions (``fetch_registry_data``, ``issue_invoice``,
#: ``issue_document``), registered by the apps that provide them. A definition may use an
#: action only when a handler for it is registered here.
workflow_actions: Registry[Any] = Registry("workflow action")
BUILT_IN_ACTIONS = ("notify", "request_information", "set_deadline")

#: Widgets that can show a value from a register read-only: a single text or date.
PREFILL_WIDGETS = ("text", "textarea", "date", "personal_number", "email", "tel")


@dataclass(frozen=True)
class RegistrySource:
    """Data a base registry gives about the applicant (or their organisation), by name
    (``population.person``), as the cases app registers it. ``shape`` mirrors the registry's
    JSON answer: a dict of keys, a one-item list for arrays, ``None`` for a single value; it is
    what ``x-prefill`` paths are checked against. ``checks`` are the outcomes a
    ``fetch_registry_data`` action may ask of this data."""

    name: str
    service: str
    subject: str
    shape: Any
    label: Any
    checks: tuple[str, ...] = ()


#: The registry data a definition may refer to (``x-prefill``, ``fetch_registry_data``).
registry_sources: Registry[RegistrySource] = Registry("registry data source")


def prefill_reference(reference: str) -> tuple[str, list[str]]:
    """``population.person.last_name.be`` → (``population.person``, [``last_name``, ``be``])."""
    parts = reference.split(".")
    return ".".join(parts[:2]), parts[2:]


def _prefill_problem(reference: str) -> str | None:
    source_name, path = prefill_reference(reference)
    if source_name not in registry_sources:
        known = ", ".join(registry_sources) or "none"
        return f"'{source_name}' is not a registry data source (known: {known})"
    node = registry_sources[source_name].shape
    walked: list[str] = []
    for segment in path:
        if isinstance(node, list):
            if not segment.isdigit():
                return f"'{'.'.join([*walked, segment])}' must be a position in a list, e.g. 0"
            node = node[0]
        elif isinstance(node, dict) and segment in node:
            node = node[segment]
        else:
            return f"'{'.'.join([*walked, segment])}' is not in the data of {source_name}"
        walked.append(segment)
    if node is not None:
        return f"'{'.'.join(walked)}' is not a single value: name one of its parts"
    return None


class DefinitionInvalid(ApplicationError):
    """A definition broke a rule; ``path`` points at the offending place."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path or "(definition)"
        self.detail = message
        super().__init__(f"{self.path}: {message}")


@cache
def meta_schema() -> dict[str, Any]:
    with SCHEMA_FILE.open(encoding="utf-8") as handle:
        return dict(json.load(handle))


def _path(parts: Iterable[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def definition_validate(definition: Any) -> None:
    """Raise :class:`DefinitionInvalid` for the first problem, or return quietly."""
    validator = jsonschema.Draft202012Validator(meta_schema())
    errors = sorted(validator.iter_errors(definition), key=lambda e: (len(e.path), list(e.path)))
    if errors:
        error = jsonschema.exceptions.best_match(errors)
        raise DefinitionInvalid(_path(error.absolute_path), error.message)
    for path, message in _semantic_problems(definition):
        raise DefinitionInvalid(path, message)


def _semantic_problems(definition: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    form = definition["form"]
    schema = form["schema"]
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as error:
        yield _path(["form", "schema", *error.absolute_path]), error.message
        return
    for where, key in _references(schema, ["form", "schema"]):
        yield _path(where), f"'{key}' is not allowed: the form's schema must be self-contained"
        return
    properties = schema["properties"]
    for name, prop in properties.items():
        reference = prop.get("x-prefill")
        if reference is not None:
            problem = _prefill_problem(reference)
            if problem:
                yield _path(["form", "schema", "properties", name, "x-prefill"]), problem
    for index, name in enumerate(schema.get("required", [])):
        if name not in properties:
            yield _path(["form", "schema", "required", index]), f"'{name}' is not a property"
    seen: dict[str, str] = {}
    step_codes: set[str] = set()
    for s_index, step in enumerate(form["steps"]):
        if step["code"] in step_codes:
            yield _path(["form", "steps", s_index, "code"]), f"step '{step['code']}' repeats"
        step_codes.add(step["code"])
        for f_index, field in enumerate(step["fields"]):
            where = ["form", "steps", s_index, "fields", f_index]
            name = field["name"]
            if name not in properties:
                yield _path([*where, "name"]), f"'{name}' is not a property of form.schema"
                continue
            if name in seen:
                yield _path([*where, "name"]), f"'{name}' is already asked at {seen[name]}"
            seen[name] = _path(where)
            yield from _field_problems(field, properties[name], where)
            if "x-prefill" in properties[name] and field["widget"] not in PREFILL_WIDGETS:
                yield (
                    _path([*where, "widget"]),
                    "a field filled from a register must be shown as text, a date or a number",
                )
    for name in properties:
        if name not in seen:
            yield _path(["form", "schema", "properties", name]), "is asked on no step"
    codes: set[str] = set()
    for index, attachment in enumerate(definition.get("attachments", [])):
        where = ["attachments", index]
        if attachment["code"] in codes:
            yield _path([*where, "code"]), f"'{attachment['code']}' repeats"
        codes.add(attachment["code"])
        if attachment.get("min_files", 0) > attachment.get("max_files", 1):
            yield _path([*where, "min_files"]), "is more than max_files"
    yield from _workflow_problems(
        definition["workflow"], four_eyes=bool(definition.get("four_eyes"))
    )


def _field_problems(
    field: Mapping[str, Any], prop: Mapping[str, Any], where: list[Any]
) -> Iterator[tuple[str, str]]:
    widget = field["widget"]
    if widget in CHOICE_WIDGETS:
        if "options" not in field:
            yield _path([*where, "options"]), f"a {widget} field needs options"
            return
        allowed = prop.get("items", {}).get("enum") if widget == "checkboxes" else prop.get("enum")
        values = [option["value"] for option in field["options"]]
        if allowed is None or sorted(map(str, allowed)) != sorted(values):
            yield _path([*where, "options"]), "options must match the property's enum exactly"
        elif not all(isinstance(value, str) for value in allowed):
            # A browser posts text: a number in the enum could never be chosen.
            yield _path([*where, "options"]), "the property's enum must hold strings"
    if widget == "checkboxes" and prop.get("type") != "array":
        yield _path([*where, "widget"]), "checkboxes need an array property"
    if widget == "yes_no" and prop.get("type") != "boolean":
        yield _path([*where, "widget"]), "yes_no needs a boolean property"
    if widget == "number" and prop.get("type") not in ("integer", "number"):
        yield _path([*where, "widget"]), "number needs an integer or number property"
    if widget == "date" and prop.get("format") != "date":
        yield _path([*where, "widget"]), "date needs a string property with format date"


def _workflow_problems(
    workflow: Mapping[str, Any], *, four_eyes: bool
) -> Iterator[tuple[str, str]]:
    states: dict[str, Mapping[str, Any]] = {}
    for index, state in enumerate(workflow["states"]):
        if state["code"] in states:
            yield _path(["workflow", "states", index, "code"]), f"'{state['code']}' repeats"
        states[state["code"]] = state
    if workflow["initial"] not in states:
        yield "workflow.initial", f"'{workflow['initial']}' is not a state"
    elif states[workflow["initial"]]["kind"] == "final":
        yield "workflow.initial", "the initial state cannot be final"
    codes: set[str] = set()
    for index, transition in enumerate(workflow["transitions"]):
        where = ["workflow", "transitions", index]
        if transition["code"] in codes:
            yield _path([*where, "code"]), f"'{transition['code']}' repeats"
        codes.add(transition["code"])
        for f_index, source in enumerate(transition["from"]):
            if source not in states:
                yield _path([*where, "from", f_index]), f"'{source}' is not a state"
            elif states[source]["kind"] == "final":
                yield _path([*where, "from", f_index]), f"'{source}' is final: nothing leaves it"
        if transition["to"] not in states:
            yield _path([*where, "to"]), f"'{transition['to']}' is not a state"
        actors = transition["actor"]
        if SYSTEM in actors and len(actors) > 1:
            yield _path([*where, "actor"]), "a system transition has no other actor"
        if SYSTEM in actors and transition.get("guards"):
            yield _path([*where, "guards"]), "a system transition has no guards"
        for a_index, action in enumerate(transition.get("actions", [])):
            kind = action["type"]
            if kind not in BUILT_IN_ACTIONS and kind not in workflow_actions:
                yield (
                    _path([*where, "actions", a_index, "type"]),
                    f"'{kind}' has no handler on this platform yet",
                )
            if kind == "fetch_registry_data":
                yield from _fetch_problems(action, [*where, "actions", a_index])
            if kind == "issue_document":
                yield from _document_problems(
                    action, [*where, "actions", a_index], actors, states.get(transition["to"], {})
                )
            if kind == "request_information" and states.get(transition["to"], {}).get("kind") != (
                "waiting"
            ):
                yield (
                    _path([*where, "to"]),
                    "a request for information must lead to a waiting state",
                )
            if kind == "request_information" and any(
                states.get(source, {}).get("kind") != "open" for source in transition["from"]
            ):
                yield (
                    _path([*where, "from"]),
                    "a request for information leaves open states only (one request at a time)",
                )
            if kind == "request_information" and "comment_required" not in transition.get(
                "guards", []
            ):
                yield (
                    _path([*where, "guards"]),
                    "a request for information needs comment_required: the comment is the question",
                )
    for index, state in enumerate(workflow["states"]):
        if state["kind"] != "waiting":
            continue
        exits = [
            t
            for t in workflow["transitions"]
            if state["code"] in t["from"]
            and APPLICANT in t["actor"]
            and states.get(t["to"], {}).get("outcome") != "withdrawn"
        ]
        if not exits:
            yield (
                _path(["workflow", "states", index]),
                f"'{state['code']}' waits for the applicant but gives them no way to answer",
            )
    if four_eyes:
        yield from _four_eyes_problems(workflow, states)
    reachable = {workflow["initial"]}
    changed = True
    while changed:
        changed = False
        for transition in workflow["transitions"]:
            if set(transition["from"]) & reachable and transition["to"] not in reachable:
                reachable.add(transition["to"])
                changed = True
    for index, state in enumerate(workflow["states"]):
        if state["code"] not in reachable:
            yield _path(["workflow", "states", index]), f"'{state['code']}' cannot be reached"
    if not any(states[code]["kind"] == "final" for code in reachable if code in states):
        yield "workflow.states", "no final state can be reached"


def _fetch_problems(action: Mapping[str, Any], where: list[Any]) -> Iterator[tuple[str, str]]:
    source = action["source"]
    if source not in registry_sources:
        known = ", ".join(registry_sources) or "none"
        yield (
            _path([*where, "source"]),
            f"'{source}' is not a registry data source (known: {known})",
        )
        return
    check = action.get("check")
    allowed = registry_sources[source].checks
    if check is not None and check not in allowed:
        yield (
            _path([*where, "check"]),
            f"'{check}' cannot be checked on {source} (possible: {', '.join(allowed) or 'none'})",
        )


#: The outcome a decision document's transition must lead to.
DOCUMENT_OUTCOMES = {"decision": "approved", "refusal": "refused"}


def _document_problems(
    action: Mapping[str, Any], where: list[Any], actors: list[str], target: Mapping[str, Any]
) -> Iterator[tuple[str, str]]:
    outcome = DOCUMENT_OUTCOMES.get(str(action.get("kind")))
    if outcome is not None and target.get("outcome") != outcome:
        yield (
            _path([*where, "kind"]),
            f"a {action['kind']} is issued by a transition to a final state with outcome {outcome}",
        )
    if action.get("signatory") == "official" and SYSTEM in actors:
        yield (
            _path([*where, "signatory"]),
            "an automatic (system) transition has no official to sign: use signatory agency",
        )


def _references(node: Any, where: list[Any]) -> Iterator[tuple[list[Any], str]]:
    """Every $ref in a schema: a form's schema must not reach outside itself."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("$ref", "$dynamicRef"):
                yield [*where, key], key
            else:
                yield from _references(value, [*where, key])
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _references(value, [*where, index])


def _four_eyes_problems(
    workflow: Mapping[str, Any], states: Mapping[str, Mapping[str, Any]]
) -> Iterator[tuple[str, str]]:
    """Under four eyes a decision is a decision maker's, on a case a clerk prepared."""
    transitions = workflow["transitions"]
    for index, transition in enumerate(transitions):
        target = states.get(transition["to"], {})
        if not (target.get("kind") == "final" and target.get("outcome") in DECISION_OUTCOMES):
            continue
        where = ["workflow", "transitions", index]
        if list(transition["actor"]) != ["decision_maker"]:
            yield _path([*where, "actor"]), "under four eyes only a decision maker decides"
        for source in transition["from"]:
            entering = [t for t in transitions if t["to"] == source]
            if not entering or any(list(t["actor"]) != ["clerk"] for t in entering):
                yield (
                    _path([*where, "from"]),
                    f"under four eyes '{source}' must be reached only by a clerk's preparation",
                )


@dataclass(frozen=True)
class Transition:
    code: str
    sources: tuple[str, ...]
    target: str
    actors: tuple[str, ...]
    label: Mapping[str, str]
    guards: tuple[str, ...]
    actions: tuple[Mapping[str, Any], ...]

    @property
    def is_automatic(self) -> bool:
        return SYSTEM in self.actors


@dataclass(frozen=True)
class State:
    code: str
    kind: str
    label: Mapping[str, str]
    outcome: str | None


class Workflow:
    """A validated workflow, ready to answer "what may this actor do now?"."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.initial: str = data["initial"]
        self.states = {
            item["code"]: State(item["code"], item["kind"], item["label"], item.get("outcome"))
            for item in data["states"]
        }
        self.transitions = {
            item["code"]: Transition(
                code=item["code"],
                sources=tuple(item["from"]),
                target=item["to"],
                actors=tuple(item["actor"]),
                label=item["label"],
                guards=tuple(item.get("guards", ())),
                actions=tuple(item.get("actions", ())),
            )
            for item in data["transitions"]
        }

    def leaving(self, state: str) -> list[Transition]:
        return [t for t in self.transitions.values() if state in t.sources]

    def automatic_from(self, state: str) -> Transition | None:
        return next((t for t in self.leaving(state) if t.is_automatic), None)

    def is_final(self, state: str) -> bool:
        return self.states[state].kind == "final"


def text(value: Mapping[str, str] | None, language: str) -> str:
    """The text in the language asked for, else Belarusian, else any."""
    if not value:
        return ""
    return value.get(language) or value.get("be") or next(iter(value.values()), "")
