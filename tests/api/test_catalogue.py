"""The public catalogue: no login, text in the language asked for, the form to apply with."""

from __future__ import annotations

import pytest

from egov.catalog.models import Agency, Service
from tests.api.conftest import CRIMINAL_RECORD, ContractClient, published_version

pytestmark = pytest.mark.django_db

LIST = "/api/v1/catalogue/services/"


def detail(code: str) -> str:
    return f"/api/v1/catalogue/services/{code}/"


def test_lists_every_published_service_without_login(anonymous: ContractClient) -> None:
    response = anonymous.get(LIST, {"limit": 200})

    assert response.status_code == 200
    published = Service.objects.filter(is_published=True)
    body = response.json()
    assert body["count"] == published.count()
    assert {item["code"] for item in body["results"]} == set(
        published.values_list("code", flat=True)
    )


def test_list_item_tells_what_a_client_needs(anonymous: ContractClient) -> None:
    service = Service.objects.get(code=CRIMINAL_RECORD)

    body = anonymous.get(LIST, {"limit": 200}, HTTP_ACCEPT_LANGUAGE="en").json()
    item = next(entry for entry in body["results"] if entry["code"] == CRIMINAL_RECORD)

    assert item == {
        "code": CRIMINAL_RECORD,
        "name": service.name_en,
        "summary": service.summary_en,
        "agency": {"code": "MVD", "name": service.agency.name_en},
        "audience": "citizens",
        "fee_base_units": f"{service.fee_base_units:.2f}",
        "max_processing_days": service.max_processing_days,
        "required_assurance": "substantial",
        "can_apply_online": True,
    }


@pytest.mark.parametrize("language", ["be", "ru", "en"])
def test_text_comes_in_the_language_of_accept_language(
    anonymous: ContractClient, language: str
) -> None:
    service = Service.objects.get(code=CRIMINAL_RECORD)

    listed = anonymous.get(LIST, {"limit": 200}, HTTP_ACCEPT_LANGUAGE=language)
    shown = anonymous.get(detail(CRIMINAL_RECORD), HTTP_ACCEPT_LANGUAGE=language)

    assert listed["Content-Language"] == language
    assert shown["Content-Language"] == language
    item = next(entry for entry in listed.json()["results"] if entry["code"] == CRIMINAL_RECORD)
    assert item["name"] == getattr(service, f"name_{language}")
    assert shown.json()["name"] == getattr(service, f"name_{language}")
    assert shown.json()["agency"]["name"] == getattr(service.agency, f"name_{language}")
    first_step = shown.json()["application_form"]["steps"][0]
    definition_step = published_version(CRIMINAL_RECORD).definition["form"]["steps"][0]
    assert first_step["title"] == definition_step["title"][language]


def test_without_accept_language_text_is_belarusian(anonymous: ContractClient) -> None:
    response = anonymous.get(detail(CRIMINAL_RECORD))

    assert response["Content-Language"] == "be"
    assert response.json()["name"] == Service.objects.get(code=CRIMINAL_RECORD).name_be


def test_filters_by_audience(anonymous: ContractClient) -> None:
    body = anonymous.get(LIST, {"audience": "businesses", "limit": 200}).json()

    expected = Service.objects.filter(is_published=True, audience="businesses")
    assert body["count"] == expected.count() > 0
    assert {item["audience"] for item in body["results"]} == {"businesses"}


def test_filters_by_agency(anonymous: ContractClient) -> None:
    body = anonymous.get(LIST, {"agency": "MVD", "limit": 200}).json()

    expected = Service.objects.filter(is_published=True, agency__code="MVD")
    assert body["count"] == expected.count() > 0
    assert {item["agency"]["code"] for item in body["results"]} == {"MVD"}


@pytest.mark.parametrize(
    ("query", "field"), [({"agency": "NOPE"}, "agency"), ({"audience": "aliens"}, "audience")]
)
def test_unknown_filter_value_is_a_400_problem(
    anonymous: ContractClient, query: dict[str, str], field: str
) -> None:
    response = anonymous.get(LIST, query, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["errors"]) == [field]


def test_list_is_paginated(anonymous: ContractClient) -> None:
    body = anonymous.get(LIST, {"limit": 2}).json()

    assert len(body["results"]) == 2
    assert body["previous"] is None
    assert "offset=2" in body["next"]


def test_detail_gives_the_published_form_to_build_the_application(
    anonymous: ContractClient,
) -> None:
    version = published_version(CRIMINAL_RECORD)
    definition = version.definition

    body = anonymous.get(detail(CRIMINAL_RECORD), HTTP_ACCEPT_LANGUAGE="en").json()
    form = body["application_form"]

    assert form["version"] == version.number
    assert form["deadline_working_days"] == definition["deadline_working_days"]
    assert form["schema"] == definition["form"]["schema"]
    assert [step["code"] for step in form["steps"]] == [
        step["code"] for step in definition["form"]["steps"]
    ]
    fields = {field["name"]: field for step in form["steps"] for field in step["fields"]}
    assert fields["purpose"]["widget"] == "select"
    assert fields["purpose"]["required"] is True
    assert fields["former_names"]["required"] is False
    assert {"value": "employment", "label": "For a job"} in fields["purpose"]["options"]
    assert fields["personal_number"]["error_message"] == (
        "Enter the 14 characters of the identification number"
    )
    assert form["attachments"] == [
        {
            "code": "name_change_documents",
            "label": "Documents showing your change of name",
            "hint": definition["attachments"][0]["hint"]["en"],
            "content_types": ["application/pdf", "image/jpeg", "image/png"],
            "max_size_mb": 5.0,
            "min_files": 0,
            "max_files": 3,
        }
    ]
    assert "workflow" not in form


def test_service_without_an_online_form_has_none(anonymous: ContractClient) -> None:
    service = Service.objects.filter(is_published=True, versions__isnull=True).first()
    assert service is not None

    body = anonymous.get(detail(service.code)).json()

    assert body["code"] == service.code
    assert body["application_form"] is None


def test_unknown_service_is_a_404_problem(anonymous: ContractClient) -> None:
    response = anonymous.get(detail("NO-SUCH-SERVICE"))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_unpublished_service_is_not_in_the_catalogue(anonymous: ContractClient) -> None:
    Service.objects.filter(code=CRIMINAL_RECORD).update(is_published=False)

    listed = anonymous.get(LIST, {"limit": 200}).json()
    shown = anonymous.get(detail(CRIMINAL_RECORD))

    assert CRIMINAL_RECORD not in {item["code"] for item in listed["results"]}
    assert shown.status_code == 404


def test_a_bad_token_does_not_matter_to_the_public_catalogue() -> None:
    client = ContractClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer egov_not-a-token")

    assert client.get(LIST).status_code == 200
    assert client.get(detail(CRIMINAL_RECORD)).status_code == 200


def test_agency_filter_ignores_case(anonymous: ContractClient) -> None:
    body = anonymous.get(LIST, {"agency": "mvd", "limit": 200}).json()

    assert (
        body["count"] == Agency.objects.get(code="MVD").services.filter(is_published=True).count()
    )
