"""The definition format's registry parts: x-prefill, prefill_unavailable and
fetch_registry_data, rejected with the exact path of the problem."""

from __future__ import annotations

import pytest

from egov.catalog.definitions import DefinitionInvalid, definition_validate
from tests.cases.test_definitions import birth

pytestmark = pytest.mark.django_db


def _problem(change) -> str:  # type: ignore[no-untyped-def]
    definition = birth()
    change(definition)
    with pytest.raises(DefinitionInvalid) as caught:
        definition_validate(definition)
    return str(caught.value)


def _prefill(reference: str, name: str = "child_last_name"):  # type: ignore[no-untyped-def]
    def change(definition: dict) -> None:
        definition["form"]["schema"]["properties"][name]["x-prefill"] = reference

    return change


def _first_action(action: dict):  # type: ignore[no-untyped-def]
    def change(definition: dict) -> None:
        definition["workflow"]["transitions"][0].setdefault("actions", []).append(action)

    return change


KNOWN = (
    "known: legal_entities.entity, population.address_history, population.family, population.person"
)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            _prefill("population.pets.name"),
            "form.schema.properties.child_last_name.x-prefill: 'population.pets' is not a "
            f"registry data source ({KNOWN})",
        ),
        (
            _prefill("population.person.lastname"),
            "form.schema.properties.child_last_name.x-prefill: 'lastname' is not in the data "
            "of population.person",
        ),
        (
            _prefill("population.person.last_name"),
            "form.schema.properties.child_last_name.x-prefill: 'last_name' is not a single "
            "value: name one of its parts",
        ),
        (
            _prefill("population.family.parents.first.last_name.be"),
            "form.schema.properties.child_last_name.x-prefill: 'parents.first' must be a "
            "position in a list, e.g. 0",
        ),
        (
            _prefill("population"),
            "form.schema.properties.child_last_name.x-prefill: 'population' does not match "
            "'^[a-z_]+\\\\.[a-z_]+(\\\\.[a-z0-9_]+)+$'",
        ),
        (
            _prefill("population.person.sex", name="child_sex"),
            "form.steps[0].fields[3].widget: a field filled from a register must be shown as "
            "text, a date or a number",
        ),
        (
            lambda d: d.update(prefill_unavailable="later"),
            "prefill_unavailable: 'later' is not one of ['type_in', 'wait']",
        ),
        (
            lambda d: d["form"]["steps"][0]["fields"][0].update(
                prefill="population.person.last_name"
            ),
            "form.steps[0].fields[0]: Additional properties are not allowed ('prefill' was "
            "unexpected)",
        ),
        (
            _first_action({"type": "fetch_registry_data", "source": "population.pets"}),
            "workflow.transitions[0].actions[1].source: 'population.pets' is not a registry "
            f"data source ({KNOWN})",
        ),
        (
            _first_action(
                {
                    "type": "fetch_registry_data",
                    "source": "population.person",
                    "check": "company_active",
                }
            ),
            "workflow.transitions[0].actions[1].check: 'company_active' cannot be checked on "
            "population.person (possible: alive)",
        ),
    ],
)
def test_broken_registry_parts_are_rejected_with_their_path(change, message):
    assert _problem(change) == message


def test_valid_registry_parts_are_accepted():
    definition = birth()
    definition["prefill_unavailable"] = "type_in"
    properties = definition["form"]["schema"]["properties"]
    properties["child_last_name"]["x-prefill"] = "population.family.children.0.last_name.be"
    definition["workflow"]["transitions"][0]["actions"].append(
        {"type": "fetch_registry_data", "source": "population.person", "check": "alive"}
    )
    for transition in definition["workflow"]["transitions"]:
        if transition["code"] == "approve":
            transition["guards"] = [*transition.get("guards", []), "registry_checks_passed"]
    definition_validate(definition)
