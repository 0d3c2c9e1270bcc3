"""``egov catalog load``: a fresh country publishes its catalogue and service definitions with
one command; a broken file stops the load with its name and place, and nothing is written."""

from __future__ import annotations

import io
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from egov.catalog.models import Agency, BaseUnit, Category, LifeEvent, Service, ServiceVersion

pytestmark = pytest.mark.django_db

COUNTRY = Path(__file__).resolve().parents[1] / "deploy" / "production"
CATALOGUE = COUNTRY / "catalogue.yaml"
DEFINITIONS = COUNTRY / "definitions"
SERVICE = "KZ-RESIDENCE-CERT"


def load(*args: str) -> str:
    out = io.StringIO()
    call_command("catalog", "load", *args, stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Agency, BaseUnit, Category, LifeEvent, Service, ServiceVersion)
    }


def catalogue_copy(tmp_path: Path, change=None) -> Path:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))
    if change:
        change(data)
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def definitions_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "definitions"
    shutil.copytree(DEFINITIONS, folder)
    return folder


def test_a_country_loads_its_catalogue_and_publishes_its_definitions():
    before = snapshot()

    output = load(str(CATALOGUE), "--definitions", str(DEFINITIONS))

    service = Service.objects.get(code=SERVICE)
    assert service.agency.code == "MIA"
    assert service.agency.name_en == "Ministry of Internal Affairs of the Republic of Kazakhstan"
    assert service.name_ru == "Справка о регистрации по месту жительства"
    assert service.required_assurance == "substantial"
    assert list(service.categories.values_list("slug", flat=True)) == ["certificates"]
    (version,) = service.versions.all()
    assert (version.number, version.status) == (1, "published")
    assert version.definition["form"]["schema"]["properties"]["last_name"]["x-prefill"] == (
        "population.person.last_name.be"
    )
    assert snapshot() == {
        **before,
        "Agency": before["Agency"] + 1,
        "Category": before["Category"] + 1,
        "Service": before["Service"] + 1,
        "ServiceVersion": before["ServiceVersion"] + 1,
    }
    # The test database holds the demo country, which has a base unit from the same day.
    assert BaseUnit.objects.get(valid_from="2026-01-01").amount == Decimal("3932.00")
    assert "services: 1" in output
    assert "definitions published: 1" in output


def test_loading_the_same_files_again_changes_nothing():
    load(str(CATALOGUE), "--definitions", str(DEFINITIONS))
    before = snapshot()
    version = ServiceVersion.objects.get(service__code=SERVICE)

    output = load(str(CATALOGUE), "--definitions", str(DEFINITIONS))

    assert snapshot() == before
    assert ServiceVersion.objects.get(service__code=SERVICE).pk == version.pk
    assert "definitions published: 0, definitions unchanged: 1" in output


def test_the_catalogue_alone_loads_without_definitions():
    load(str(CATALOGUE))

    assert Service.objects.get(code=SERVICE).versions.count() == 0


def test_a_changed_definition_becomes_a_new_published_version(tmp_path):
    load(str(CATALOGUE), "--definitions", str(DEFINITIONS))
    folder = definitions_copy(tmp_path)
    file = folder / f"{SERVICE}.yaml"
    data = yaml.safe_load(file.read_text(encoding="utf-8"))
    data["definition"]["deadline_working_days"] = 3
    file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    load(str(CATALOGUE), "--definitions", str(folder))

    versions = ServiceVersion.objects.filter(service__code=SERVICE).order_by("number")
    assert [(v.number, v.status) for v in versions] == [(1, "retired"), (2, "published")]
    assert versions[1].definition["deadline_working_days"] == 3


def test_a_file_that_is_not_yaml_is_refused_with_its_line_and_nothing_is_written(tmp_path):
    path = tmp_path / "catalogue.yaml"
    path.write_text("agencies:\n  - code: MIA\n    name: [unclosed\n", encoding="utf-8")
    before = snapshot()

    with pytest.raises(CommandError) as caught:
        load(str(path))

    message = str(caught.value)
    assert message.startswith(f"{path} (line 4, column 1): not valid YAML: ")
    assert message.endswith("Nothing was loaded.")
    assert snapshot() == before


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(CommandError) as caught:
        load(str(tmp_path / "nowhere.yaml"))

    assert str(caught.value).startswith(f"{tmp_path / 'nowhere.yaml'}: cannot be read: ")


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda data: data.update(agencies={"code": "MIA"}), "agencies must be a list"),
        (
            lambda data: data.update(servises=[]),
            "unknown sections: servises (known: base_units, agencies, categories, life_events, "
            "services)",
        ),
        (
            lambda data: data["agencies"][0].pop("short_name"),
            "agencies[0] (MIA): missing short_name",
        ),
        (
            lambda data: data["agencies"][0].update(code="mia"),
            "agencies[0] (mia): code: Use 2–10 capital Latin letters or digits, e.g. MVD.",
        ),
        (
            lambda data: data["services"][0].update(agency="NOPE"),
            "services[0] (KZ-RESIDENCE-CERT): unknown agency NOPE",
        ),
        (
            lambda data: data["services"][0].update(categories=["certificates", "nowhere"]),
            "services[0] (KZ-RESIDENCE-CERT): unknown categories: nowhere",
        ),
        (
            lambda data: data["base_units"][0].update(amount="lots"),
            "base_units[0] (2026-01-01): amount 'lots' is not a number",
        ),
        (
            lambda data: data["services"][0].update(required_assurance="extreme"),
            "services[0] (KZ-RESIDENCE-CERT): required_assurance: Value 'extreme' is not a "
            "valid choice.",
        ),
    ],
)
def test_a_broken_catalogue_is_refused_with_the_place_and_nothing_is_written(
    tmp_path, change, error
):
    path = catalogue_copy(tmp_path, change)
    before = snapshot()

    with pytest.raises(CommandError) as caught:
        load(str(path), "--definitions", str(DEFINITIONS))

    assert str(caught.value) == f"{path}: {error}\nNothing was loaded."
    assert snapshot() == before
    assert not Agency.objects.filter(code="MIA").exists()


def test_a_broken_definition_stops_the_load_and_the_catalogue_is_not_written_either(tmp_path):
    folder = definitions_copy(tmp_path)
    file = folder / f"{SERVICE}.yaml"
    data = yaml.safe_load(file.read_text(encoding="utf-8"))
    data["definition"]["workflow"]["initial"] = "approved"
    file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    before = snapshot()

    with pytest.raises(CommandError) as caught:
        load(str(CATALOGUE), "--definitions", str(folder))

    assert str(caught.value) == (
        f"{SERVICE}.yaml: workflow.initial: the initial state cannot be final\nNothing was loaded."
    )
    assert snapshot() == before
    assert not Service.objects.filter(code=SERVICE).exists()


def test_a_definition_for_a_service_outside_the_catalogue_is_refused(tmp_path):
    folder = definitions_copy(tmp_path)
    (folder / "other.yaml").write_text(
        yaml.safe_dump({"service": "NO-SUCH-SERVICE", "definition": {"format": 1}}),
        encoding="utf-8",
    )
    before = snapshot()

    with pytest.raises(CommandError) as caught:
        load(str(CATALOGUE), "--definitions", str(folder))

    assert str(caught.value) == (
        "other.yaml: service 'NO-SUCH-SERVICE' is not in the catalogue\nNothing was loaded."
    )
    assert snapshot() == before


def test_a_definition_file_without_a_definition_is_refused(tmp_path):
    folder = tmp_path / "definitions"
    folder.mkdir()
    (folder / "bare.yaml").write_text("service: KZ-RESIDENCE-CERT\n", encoding="utf-8")

    with pytest.raises(CommandError) as caught:
        load(str(CATALOGUE), "--definitions", str(folder))

    assert str(caught.value).startswith("bare.yaml: a definition file is a mapping with ")
    assert not Service.objects.filter(code=SERVICE).exists()


def test_a_definitions_folder_that_does_not_exist_is_refused(tmp_path):
    with pytest.raises(CommandError) as caught:
        load(str(CATALOGUE), "--definitions", str(tmp_path / "missing"))

    assert str(caught.value) == f"{tmp_path / 'missing'}: not a folder\nNothing was loaded."
    assert not Service.objects.filter(code=SERVICE).exists()
