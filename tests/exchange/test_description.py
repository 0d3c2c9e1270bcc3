"""The exchange description's format: a JSON Schema (copied to docs/), checked in full before
`egov exchange setup` writes anything, its problems named by their exact place."""

from __future__ import annotations

import copy
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from egov.exchange.central.description import (
    SCHEMA_FILE,
    DescriptionInvalid,
    description_validate,
)
from egov.exchange.central.models import Instance, Member
from egov.exchange.central.selectors import configuration_serial
from egov.exchange.central.setup import DEMO_DATA, demo_data, exchange_setup

ROOT = Path(__file__).resolve().parents[2]
COUNTRY = Path(__file__).resolve().parent / "data" / "country.yaml"
DOCS_PAGE = ROOT / "docs" / "exchange-description.md"


def country() -> dict[str, Any]:
    return dict(yaml.safe_load(COUNTRY.read_text(encoding="utf-8")))


def problems(data: Any, **options: Any) -> list[str]:
    with pytest.raises(DescriptionInvalid) as invalid:
        description_validate(data, **{"registries_url": "http://127.0.0.1:8001", **options})
    return invalid.value.problems


def test_the_docs_copy_of_the_schema_is_the_packages() -> None:
    docs = ROOT / "docs" / "exchange-description.schema.json"
    assert json.loads(docs.read_text()) == json.loads(SCHEMA_FILE.read_text()), (
        f"copy {SCHEMA_FILE.relative_to(ROOT)} to {docs.relative_to(ROOT)}"
    )


def test_the_demos_and_the_example_countrys_descriptions_are_valid() -> None:
    description_validate(demo_data(), registries_url="http://127.0.0.1:8001")
    description_validate(country(), registries_url="http://127.0.0.1:8001")


def test_the_page_shows_the_example_country_and_explains_every_key() -> None:
    page = DOCS_PAGE.read_text(encoding="utf-8")
    (example,) = re.findall(r"```yaml\n(.*?)```", page, flags=re.DOTALL)
    assert yaml.safe_load(example) == country()

    schema = json.loads(SCHEMA_FILE.read_text())
    keys = set(schema["properties"])
    for definition in schema["$defs"].values():
        keys |= set(definition.get("properties", {}))
    undocumented = sorted(key for key in keys if f"`{key}`" not in page)
    assert undocumented == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.pop("instance"), "(description): 'instance' is a required property"),
        (lambda d: d.update(instance="K Z"), "instance: 'K Z' does not match"),
        (
            lambda d: d.pop("member_classes"),
            "(description): 'member_classes' is a required property",
        ),
        (lambda d: d["members"][1].pop("class"), "members[1]: 'class' is a required property"),
        (
            lambda d: d["members"][1]["subsystems"][1]["services"][0].update(personal_data="yes"),
            "members[1].subsystems[1].services[0].personal_data: 'yes' is not of type 'boolean'",
        ),
        (
            lambda d: d["gateways"][1].update(health_port=70000),
            "gateways[1].health_port: 70000 is greater than the maximum of 65535",
        ),
        (
            lambda d: d["gateways"][0].update(colour="blue"),
            "gateways[0]: Additional properties are not allowed ('colour' was unexpected)",
        ),
        (
            lambda d: d["purposes"]["check"]["text"].pop("ru"),
            "purposes.check.text: 'ru' is a required property",
        ),
        (
            lambda d: d["members"][2].update({"class": "COM"}),
            "members[2].class: 'COM' is not one of the member classes (GOV, BUS)",
        ),
        (
            lambda d: d["members"][1]["subsystems"][0].update(gateway="GW-NOWHERE"),
            "members[1].subsystems[0].gateway: 'GW-NOWHERE' is not one of the gateways",
        ),
        (
            lambda d: d["gateways"][0].update(owner="NOBODY"),
            "gateways[0].owner: 'NOBODY' is not the code of a member of this description",
        ),
        (
            lambda d: d["members"].append(copy.deepcopy(d["members"][0])),
            "members[3].code: 'EGOV' is given twice",
        ),
        (
            lambda d: d["access_rights"][0]["clients"].append("BY/GOV/NCES/portal"),
            "access_rights[0].clients[1]: 'BY/GOV/NCES/portal' is not a member or subsystem of "
            "this description",
        ),
        (
            lambda d: d["access_rights"][3].update(service="KZ/GOV/MIA/population/family"),
            "access_rights[3].service: 'KZ/GOV/MIA/population/family' is not a service of this "
            "description",
        ),
        (
            lambda d: d["access_rights"][2].update(purposes=["checking"]),
            "access_rights[2].purposes[0]: 'checking' is not one of the purposes",
        ),
        (
            lambda d: d["access_rights"][2].pop("purposes"),
            "access_rights[2].services[0]: KZ/GOV/MIA/population/person holds personal data: "
            "the right needs at least one purpose",
        ),
        (
            lambda d: d["access_rights"][3].update(endpoints=[{"method": "GET", "path": "/a**"}]),
            "access_rights[3].endpoints[0]: '**' must be a whole segment",
        ),
    ],
)
def test_each_problem_is_named_by_its_place(change: Any, expected: str) -> None:
    data = country()
    change(data)
    found = problems(data)
    assert any(problem.startswith(expected) for problem in found), found


def test_every_problem_is_reported_at_once() -> None:
    data = country()
    data["members"][2]["class"] = "COM"
    data["members"][1]["subsystems"][0]["gateway"] = "GW-NOWHERE"
    assert len(problems(data)) >= 2


def test_a_base_path_needs_the_registries_address() -> None:
    found = problems(country(), registries_url="")
    assert found[0] == (
        "members[1].subsystems[1].services[0].base_path: give the registries' address with "
        "--registries-url (the base path is appended to it)"
    )


def test_an_invalid_description_writes_nothing(registry, tmp_path: Path) -> None:
    Instance.objects.all().delete()
    data = country()
    data["members"][2]["class"] = "COM"
    serial = configuration_serial()
    with pytest.raises(DescriptionInvalid, match=r"members\[2\]\.class"):
        exchange_setup(
            data=data,
            pki_dir=tmp_path / "pki",
            exchange_dir=tmp_path / "exchange",
            client_tls_dir=tmp_path / "clients",
            provider_keys_dir=tmp_path / "keys",
            registries_url="http://127.0.0.1:8001",
            central_url="https://egov.example.kz",
        )
    assert (Member.objects.count(), Instance.objects.count(), configuration_serial()) == (
        0,
        0,
        serial,
    )
    for folder in ("pki", "exchange", "clients", "keys"):
        assert not (tmp_path / folder).exists()


def test_the_command_names_the_problems(registry, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    data = country()
    data["gateways"][0]["owner"] = "NOBODY"
    broken.write_text(yaml.safe_dump(data))
    with pytest.raises(CommandError) as invalid:
        call_command(
            "exchange",
            "setup",
            "--file",
            str(broken),
            "--registries-url",
            "http://127.0.0.1:8001",
            "--central-url",
            "https://egov.example.kz",
            stdout=io.StringIO(),
        )
    assert str(invalid.value).splitlines() == [
        "The exchange description is not valid:",
        "  gateways[0].owner: 'NOBODY' is not the code of a member of this description",
    ]
    (tmp_path / "not-yaml.yaml").write_text("instance: [KZ\n")
    with pytest.raises(CommandError, match="is not valid YAML"):
        call_command("exchange", "setup", "--file", str(tmp_path / "not-yaml.yaml"))


def test_outside_the_demo_the_description_must_be_given(registry, settings, tmp_path) -> None:
    settings.DEMO_MODE = False
    with pytest.raises(CommandError) as missing:
        call_command("exchange", "setup", "--central-url", "https://egov.example.by")
    assert "give the exchange description with --file FILE" in str(missing.value)
    assert not Member.objects.exists()
    assert not (tmp_path / "pki").exists()


def test_only_the_demo_falls_back_to_the_demos_description(registry, settings, tmp_path) -> None:
    settings.DEMO_MODE = True
    out = io.StringIO()
    call_command("exchange", "setup", stdout=out, stderr=io.StringIO())
    assert out.getvalue().splitlines()[-1] == "exchange ready"
    assert Member.objects.filter(instance="BY", member_code="NCES").exists()
    assert DEMO_DATA.name == "demo_exchange.yaml"
