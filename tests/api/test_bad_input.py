"""Bad input of every kind gets a 400-family problem that says what is wrong, and writes
nothing: no application, no history, no attachment row, no file on disk."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from egov.catalog.models import Service
from egov.identity.models import User
from tests.api.conftest import (
    ANSWERS,
    CRIMINAL_RECORD,
    EXE,
    HOUSE_PERMIT,
    PDF,
    PNG,
    RESIDENCE,
    ContractClient,
    bearer,
    pdf,
)

pytestmark = pytest.mark.django_db

LIST = "/api/v1/me/applications/"


def stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


@pytest.fixture
def client(citizen: User) -> ContractClient:
    return bearer(citizen)


@pytest.fixture
def nothing_written(unchanged: Any) -> Iterator[None]:
    with unchanged():
        yield
    assert stored_files() == []


def send_json(client: ContractClient, body: Any) -> Any:
    return client.post(
        LIST, body, format="json", HTTP_IDEMPOTENCY_KEY="k", HTTP_ACCEPT_LANGUAGE="en"
    )


def send_raw(client: ContractClient, raw: bytes | str, content_type: str) -> Any:
    return client.generic(
        "POST",
        LIST,
        raw,
        content_type=content_type,
        HTTP_IDEMPOTENCY_KEY="k",
        HTTP_ACCEPT_LANGUAGE="en",
    )


def send_multipart(client: ContractClient, payload: Any, **files: Any) -> Any:
    body = {"payload": payload if isinstance(payload, str) else json.dumps(payload), **files}
    return client.post(
        LIST, body, format="multipart", HTTP_IDEMPOTENCY_KEY="k", HTTP_ACCEPT_LANGUAGE="en"
    )


def submission(code: str = CRIMINAL_RECORD, **changes: Any) -> dict[str, Any]:
    return {"service": code, "answers": {**ANSWERS[code], **changes}}


# --- the body itself -------------------------------------------------------------------------


@pytest.mark.usefixtures("nothing_written")
@pytest.mark.parametrize(
    "raw", [b"{", b'{"service": "x",}', b"\xff\xfe", b'{"answers": NaN}', b"[" * 100_000]
)
def test_malformed_json_is_a_400_problem(client: ContractClient, raw: bytes) -> None:
    response = send_raw(client, raw, "application/json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "parse_error"
    assert body["detail"].startswith("The body is not valid JSON")


@pytest.mark.usefixtures("nothing_written")
def test_json_body_larger_than_a_mebibyte_is_a_413(client: ContractClient) -> None:
    raw = json.dumps(submission(birth_place="x" * (1024 * 1024)))

    response = send_raw(client, raw, "application/json")

    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


@pytest.mark.usefixtures("nothing_written")
@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
def test_other_content_types_are_a_415_problem(client: ContractClient, content_type: str) -> None:
    response = send_raw(client, "service=x", content_type)

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


@pytest.mark.usefixtures("nothing_written")
@pytest.mark.parametrize("body", [[], "text", 42, None])
def test_body_that_is_not_an_object_is_a_400(client: ContractClient, body: Any) -> None:
    response = send_raw(client, json.dumps(body), "application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "non_field_errors" in response.json()["errors"]


@pytest.mark.usefixtures("nothing_written")
@pytest.mark.parametrize("answers", [[], "yes", 1, None, [["a", 1]]])
def test_answers_that_are_not_an_object_are_a_400(client: ContractClient, answers: Any) -> None:
    response = send_json(client, {"service": CRIMINAL_RECORD, "answers": answers})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["answers"]


@pytest.mark.usefixtures("nothing_written")
def test_missing_fields_are_named(client: ContractClient) -> None:
    response = send_json(client, {})

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"service", "answers"}


# --- the service ----------------------------------------------------------------------------


@pytest.mark.usefixtures("nothing_written")
@pytest.mark.parametrize("code", ["NO-SUCH-SERVICE", "", "x" * 33])
def test_unknown_service_is_a_400_on_the_service_field(client: ContractClient, code: str) -> None:
    response = send_json(client, {"service": code, "answers": {}})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["service"]


@pytest.mark.usefixtures("nothing_written")
def test_unpublished_service_is_unknown(client: ContractClient) -> None:
    Service.objects.filter(code=CRIMINAL_RECORD).update(is_published=False)

    response = send_json(client, submission())

    assert response.status_code == 400
    assert response.json()["errors"] == {"service": ["There is no such service in the catalogue."]}


# --- the answers ----------------------------------------------------------------------------


@pytest.mark.usefixtures("nothing_written")
def test_answers_failing_the_form_get_a_message_per_field(client: ContractClient) -> None:
    answers = {**ANSWERS[CRIMINAL_RECORD], "birth_date": "31.02.1990", "purpose": "fun"}
    del answers["email"]

    response = send_json(client, {"service": CRIMINAL_RECORD, "answers": answers})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "application_invalid"
    assert body["detail"] == "Some answers need correcting."
    assert body["errors"] == {
        "birth_date": "Enter a real date, for example 27 3 2026.",
        "purpose": "Select one of the options.",
        "email": "Enter an answer.",
    }


@pytest.mark.usefixtures("nothing_written")
def test_conditional_answers_are_required(client: ContractClient) -> None:
    response = send_json(client, submission(name_changed=True))

    assert response.status_code == 400
    assert response.json()["errors"] == {"former_names": "Enter an answer."}


@pytest.mark.usefixtures("nothing_written")
@pytest.mark.parametrize(
    ("field", "value"),
    [("name_changed", "no"), ("birth_place", 12), ("personal_number", None), ("email", ["a"])],
)
def test_answers_of_the_wrong_type_are_refused(
    client: ContractClient, field: str, value: Any
) -> None:
    response = send_json(client, submission(**{field: value}))

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


@pytest.mark.usefixtures("nothing_written")
def test_huge_strings_are_refused_per_field(client: ContractClient) -> None:
    response = send_json(client, submission(birth_place="М" * 100_000, extra="x" * 6000))

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "birth_place": "Enter 5000 characters or fewer.",
        "extra": "Enter 5000 characters or fewer.",
    }


@pytest.mark.usefixtures("nothing_written")
def test_too_many_answers_are_refused(client: ContractClient) -> None:
    answers = {f"field_{index}": "x" for index in range(201)}

    response = send_json(client, {"service": CRIMINAL_RECORD, "answers": answers})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["answers"]


@pytest.mark.usefixtures("nothing_written")
def test_deeply_nested_answers_are_refused(client: ContractClient) -> None:
    nested: Any = "x"
    for _level in range(10):
        nested = [nested]

    response = send_json(client, submission(birth_place=nested))

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["birth_place"]


# --- the files ------------------------------------------------------------------------------


@pytest.mark.usefixtures("nothing_written")
def test_missing_required_attachment_is_named(client: ContractClient) -> None:
    response = send_multipart(client, submission(RESIDENCE))

    assert response.status_code == 400
    assert response.json()["errors"] == {"housing_document": "Attach this document."}


@pytest.mark.usefixtures("nothing_written")
def test_missing_attachment_in_a_json_submission_is_named(client: ContractClient) -> None:
    response = send_json(client, submission(RESIDENCE))

    assert response.status_code == 400
    assert response.json()["errors"] == {"housing_document": "Attach this document."}


@pytest.mark.usefixtures("nothing_written")
@pytest.mark.parametrize(
    ("code", "requirement", "upload", "message"),
    [
        (
            CRIMINAL_RECORD,
            "name_change_documents",
            pdf("program.pdf", EXE),
            "The file must be a PDF, JPG, PNG. Its content is not.",
        ),
        (
            HOUSE_PERMIT,
            "land_right_document",
            pdf("deed.pdf", PNG),
            "The file must be a PDF. Its content is not.",
        ),
        (
            CRIMINAL_RECORD,
            "name_change_documents",
            pdf("empty.pdf", b""),
            "The selected file is empty.",
        ),
        (
            CRIMINAL_RECORD,
            "name_change_documents",
            pdf("big.pdf", PDF + b"0" * (5 * 1024 * 1024)),
            "The file must be smaller than 5 MB.",
        ),
    ],
)
def test_files_are_checked_by_content_and_size(
    client: ContractClient, code: str, requirement: str, upload: Any, message: str
) -> None:
    uploads = {requirement: upload}
    if code == HOUSE_PERMIT:
        uploads["site_plan"] = pdf("plan.pdf")

    response = send_multipart(client, submission(code), **uploads)

    assert response.status_code == 400
    assert response.json()["errors"] == {requirement: message}


@pytest.mark.usefixtures("nothing_written")
def test_too_many_files_are_refused(client: ContractClient) -> None:
    files = [pdf(f"page{index}.pdf") for index in range(4)]

    response = send_multipart(client, submission(), name_change_documents=files)

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "name_change_documents": "You can attach no more than 3 files here."
    }


@pytest.mark.usefixtures("nothing_written")
def test_unknown_requirement_code_is_refused(client: ContractClient) -> None:
    response = send_multipart(client, submission(), passport_scan=pdf())

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "passport_scan": "This document is not asked for by the service."
    }


@pytest.mark.usefixtures("nothing_written")
def test_one_bad_file_keeps_the_good_ones_out_too(client: ContractClient) -> None:
    response = send_multipart(
        client,
        submission(RESIDENCE),
        housing_document=pdf("contract.pdf"),
        payment_proof=pdf("receipt.pdf", EXE),
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["payment_proof"]


@pytest.mark.usefixtures("nothing_written")
@pytest.mark.parametrize("payload", ["{not json", "[1, 2]", ""])
def test_multipart_payload_must_be_a_json_object(client: ContractClient, payload: str) -> None:
    response = send_multipart(client, payload)

    assert response.status_code == 400
    assert response.json()["code"] in ("parse_error", "invalid")


@pytest.mark.usefixtures("nothing_written")
def test_multipart_without_payload_is_a_400(client: ContractClient) -> None:
    response = client.post(
        LIST, {"name_change_documents": pdf()}, format="multipart", HTTP_IDEMPOTENCY_KEY="k"
    )

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"service", "answers"}


@pytest.mark.usefixtures("nothing_written")
def test_payload_sent_as_a_file_is_a_400(client: ContractClient) -> None:
    response = client.post(
        LIST,
        {"payload": pdf("payload.json", json.dumps(submission()).encode())},
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="k",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
