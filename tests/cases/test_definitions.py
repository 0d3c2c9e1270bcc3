"""Service definitions: validated against the format's schema, with the exact path of an error;
versions draft → published → retired; an application keeps its version."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from egov.cases.models import Application
from egov.catalog.definitions import SCHEMA_FILE, DefinitionInvalid, definition_validate
from egov.catalog.models import Service, ServiceVersion
from egov.catalog.services import (
    definitions_load,
    service_version_create,
    service_version_publish,
    service_version_retire,
)
from egov.core.errors import ApplicationError
from egov.demo.seed import DEFINITIONS_DIR
from tests.conftest import ROOT
from tests.factories import CRIMINAL_RECORD_ANSWERS, UserFactory, submitted

BIRTH_FILE = DEFINITIONS_DIR / "200.5.1.yaml"


def birth() -> dict:
    return copy.deepcopy(yaml.safe_load(BIRTH_FILE.read_text())["definition"])


def test_the_published_schema_in_docs_is_the_one_the_platform_uses():
    docs = ROOT / "docs" / "service-definition.schema.json"
    assert json.loads(docs.read_text()) == json.loads(SCHEMA_FILE.read_text()), (
        "run `make definition-schema` to refresh docs/service-definition.schema.json"
    )


@pytest.mark.parametrize("path", sorted(DEFINITIONS_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_demo_definition_is_valid(path):
    definition_validate(yaml.safe_load(path.read_text())["definition"])


def test_there_are_at_least_eight_demo_definitions():
    assert len(list(DEFINITIONS_DIR.glob("*.yaml"))) >= 8


def _break(change):
    definition = birth()
    change(definition)
    with pytest.raises(DefinitionInvalid) as caught:
        definition_validate(definition)
    return str(caught.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["workflow"]["transitions"][2].update(to="nowhere"),
            "workflow.transitions[2].to: 'nowhere' is not a state",
        ),
        (lambda d: d.pop("workflow"), "(definition): 'workflow' is a required property"),
        (
            lambda d: d["form"]["steps"][0]["fields"][0].update(widget="slider"),
            "form.steps[0].fields[0].widget: 'slider' is not one of",
        ),
        (
            lambda d: d["form"]["steps"][0]["fields"][0]["label"].pop("be"),
            "form.steps[0].fields[0].label: 'be' is a required property",
        ),
        (
            lambda d: d["form"]["steps"][0]["fields"][3]["options"].pop(),
            "form.steps[0].fields[3].options: options must match the property's enum exactly",
        ),
        (
            lambda d: d["form"]["steps"][1]["fields"].pop(),
            "form.schema.properties.birth_place: is asked on no step",
        ),
        (
            lambda d: d["form"]["schema"]["properties"]["child_sex"].update(type="sometimes"),
            "form.schema.properties.child_sex.type",
        ),
        (
            lambda d: d["workflow"]["transitions"].append(
                {**d["workflow"]["transitions"][3], "code": "reopen", "from": ["approved"]}
            ),
            "workflow.transitions[6].from[0]: 'approved' is final: nothing leaves it",
        ),
        (
            lambda d: d["workflow"]["transitions"][1]["actions"].append({"type": "issue_invoice"}),
            "workflow.transitions[1].actions[2].type: 'issue_invoice' has no handler",
        ),
        (
            lambda d: d["workflow"]["transitions"][0].update(guards=["comment_required"]),
            "workflow.transitions[0].guards: a system transition has no guards",
        ),
        (
            lambda d: d["attachments"][0].update(content_types=["application/x-msdownload"]),
            "attachments[0].content_types[0]",
        ),
        (
            lambda d: d["workflow"]["states"].append(
                {"code": "limbo", "kind": "open", "label": {"be": "x", "ru": "x", "en": "x"}}
            ),
            "workflow.states[6]: 'limbo' cannot be reached",
        ),
        (
            lambda d: d["form"]["schema"]["properties"]["child_sex"].update(
                {"$ref": "https://example.org/sex.json"}
            ),
            "form.schema.properties.child_sex.$ref: '$ref' is not allowed",
        ),
        (
            lambda d: d["form"]["schema"]["properties"].update(child_sex=True),
            "form.schema.properties.child_sex: True is not of type 'object'",
        ),
        (
            lambda d: (
                d["form"]["schema"]["properties"]["child_sex"].update(enum=[1, 2]),
                d["form"]["steps"][0]["fields"][3].update(
                    options=[
                        {"value": "1", "label": {"be": "a", "ru": "a", "en": "a"}},
                        {"value": "2", "label": {"be": "b", "ru": "b", "en": "b"}},
                    ]
                ),
            ),
            "form.steps[0].fields[3].options: the property's enum must hold strings",
        ),
        (
            lambda d: d["workflow"]["transitions"][1]["from"].append("information_requested"),
            "workflow.transitions[1].from: a request for information leaves open states only",
        ),
        (
            lambda d: d["workflow"]["transitions"][2].update(actor=["clerk"]),
            "workflow.states[2]: 'information_requested' waits for the applicant but gives them",
        ),
        (
            lambda d: d.update(four_eyes=True),
            "workflow.transitions[3].actor: under four eyes only a decision maker decides",
        ),
    ],
)
def test_a_broken_definition_is_rejected_with_the_exact_path(change, message):
    assert message in _break(change)


@pytest.mark.django_db
def test_versions_publish_retire_and_applications_keep_theirs():
    service = Service.objects.get(code="MVD-NO-CRIMINAL-RECORD")
    first = service.versions.get(status="published")
    application = submitted(service.code, UserFactory(), CRIMINAL_RECORD_ANSWERS)
    changed = copy.deepcopy(first.definition)
    changed["deadline_working_days"] = 10
    draft = service_version_create(service=service, definition=changed, change_note="Faster")
    assert (draft.number, draft.status) == (first.number + 1, "draft")
    service_version_publish(version=draft)
    first.refresh_from_db()
    draft.refresh_from_db()
    assert (first.status, draft.status) == ("retired", "published")
    application.refresh_from_db()
    assert application.version_id == first.pk
    with pytest.raises(ApplicationError):
        service_version_publish(version=first)
    service_version_retire(version=draft)
    draft.refresh_from_db()
    assert draft.status == "retired"
    assert not service.versions.filter(status="published").exists()


@pytest.mark.django_db
def test_loading_a_broken_file_writes_nothing(tmp_path: Path):
    good = yaml.safe_load(BIRTH_FILE.read_text())
    good["definition"]["deadline_working_days"] = 3
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(good, allow_unicode=True))
    broken = copy.deepcopy(good)
    broken["service"] = "MVD-NO-CRIMINAL-RECORD"
    broken["definition"]["workflow"]["initial"] = "approved"
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(broken, allow_unicode=True))
    before = ServiceVersion.objects.count()
    with pytest.raises(DefinitionInvalid) as caught:
        definitions_load(directory=tmp_path)
    assert str(caught.value) == "b.yaml: workflow.initial: the initial state cannot be final"
    assert ServiceVersion.objects.count() == before
    assert Application.objects.count() == 0


@pytest.mark.django_db
def test_loading_the_same_definitions_again_changes_nothing():
    before = ServiceVersion.objects.count()
    assert definitions_load(directory=DEFINITIONS_DIR)["published"] == 0
    assert ServiceVersion.objects.count() == before


def _admin_client(client):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.factories import current_code, totp_device

    admin = UserFactory(kind="admin", personal_number=None, is_superuser=True)
    device: TOTPDevice = totp_device(admin)
    client.post("/en/account/login/", {"username": admin.email, "password": "correct-Horse-42"})
    client.post("/en/account/login/code/", {"token": current_code(device)})
    return client


@pytest.mark.django_db
def test_admin_rejects_a_broken_definition_with_its_path_and_saves_a_good_one(client):
    _admin_client(client)
    service = Service.objects.get(code="200.5.1")
    broken = birth()
    broken["workflow"]["transitions"][2]["to"] = "nowhere"
    before = ServiceVersion.objects.count()
    response = client.post(
        "/en/admin/catalog/serviceversion/add/",
        {"service": service.pk, "change_note": "x", "definition_text": yaml.safe_dump(broken)},
    )
    assert response.status_code == 200
    assert (
        "workflow.transitions[2].to: &#x27;nowhere&#x27; is not a state"
        in response.content.decode()
    )
    response = client.post(
        "/en/admin/catalog/serviceversion/add/",
        {"service": service.pk, "change_note": "x", "definition_text": "a: [unclosed"},
    )
    assert "This is not valid YAML" in response.content.decode()
    assert ServiceVersion.objects.count() == before
    good = birth()
    good["deadline_working_days"] = 1
    response = client.post(
        "/en/admin/catalog/serviceversion/add/",
        {"service": service.pk, "change_note": "Same day", "definition_text": yaml.safe_dump(good)},
    )
    assert response.status_code == 302
    draft = service.versions.get(status="draft")
    assert draft.definition["deadline_working_days"] == 1
    client.post(
        "/en/admin/catalog/serviceversion/",
        {"action": "publish", "_selected_action": [draft.pk]},
    )
    draft.refresh_from_db()
    assert draft.status == "published"
    assert service.versions.filter(status="published").count() == 1
