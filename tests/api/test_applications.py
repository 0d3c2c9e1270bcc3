"""A person's own applications: reading them, submitting once, withdrawing, answering."""

from __future__ import annotations

import json
from typing import Any

import pytest

from egov.cases.models import Application, Attachment, InternalNote
from egov.cases.services import case_claim, internal_note_add, transition_fire
from egov.catalog.models import Service
from egov.catalog.services import service_version_retire
from egov.identity.models import User
from egov.identity.selectors import SESSION_LOA
from tests.api.conftest import (
    ANSWERS,
    CHILD_PASSPORT,
    CRIMINAL_RECORD,
    PDF,
    PNG,
    RESIDENCE,
    ContractClient,
    bearer,
    pdf,
    published_version,
    submit,
)

pytestmark = pytest.mark.django_db

LIST = "/api/v1/me/applications/"


def detail(number: str) -> str:
    return f"/api/v1/me/applications/{number}/"


def post_json(client: ContractClient, body: Any, key: str | None = "key-1", **extra: Any) -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(LIST, body, format="json", **headers, **extra)


def submission(code: str = CRIMINAL_RECORD, **changes: Any) -> dict[str, Any]:
    return {"service": code, "answers": {**ANSWERS[code], **changes}}


def mine(user: User) -> int:
    return Application.objects.filter(applicant=user).count()


# --- reading ---------------------------------------------------------------------------------


def test_list_shows_only_my_applications_newest_first(citizen: User, other_citizen: User) -> None:
    first = submit(citizen)
    second = submit(citizen, accept=False)
    submit(other_citizen)

    body = bearer(citizen).get(LIST, HTTP_ACCEPT_LANGUAGE="en").json()

    assert body["count"] == 2
    assert [item["number"] for item in body["results"]] == [second.number, first.number]
    assert body["results"][1] == {
        "number": first.number,
        "service": {
            "code": CRIMINAL_RECORD,
            "name": Service.objects.get(code=CRIMINAL_RECORD).name_en,
        },
        "state": "in_review",
        "state_label": "Being reviewed",
        "state_kind": "open",
        "outcome": None,
        "submitted_at": body["results"][1]["submitted_at"],
        "deadline": first.deadline.isoformat(),
        "deadline_status": "ok",
    }
    assert body["results"][0]["state_label"] == "Submitted"


def test_detail_shows_answers_history_and_files(citizen: User) -> None:
    application = submit(citizen, uploads={"name_change_documents": [pdf("marriage.pdf")]})

    body = bearer(citizen).get(detail(application.number), HTTP_ACCEPT_LANGUAGE="en").json()

    assert body["number"] == application.number
    assert body["answers"] == ANSWERS[CRIMINAL_RECORD]
    assert body["agency"]["code"] == "MVD"
    assert body["information_request"] is None
    assert [(event["kind"], event["to_state"]) for event in body["history"]] == [
        ("submitted", "submitted"),
        ("transition", "in_review"),
    ]
    assert body["history"][1]["actor_role"] == "system"
    assert body["history"][1]["to_state_label"] == "Being reviewed"
    [attachment] = body["attachments"]
    assert attachment["requirement"] == "name_change_documents"
    assert attachment["name"] == "marriage.pdf"
    assert attachment["content_type"] == "application/pdf"
    assert attachment["size"] == len(PDF)


def test_applicant_sees_questions_and_decisions_but_not_the_agency_s_internal_words(
    citizen: User, clerk: User, decider: User
) -> None:
    """Four-eyes service: the clerk's reasons to the decision maker and internal notes stay in
    the agency; the decision's reasons reach the applicant."""
    uploads = {
        "child_photo": [pdf("photo.png", PNG)],
        "birth_certificate": [pdf()],
        "current_passport_pages": [pdf()],
    }
    application = submit(citizen, CHILD_PASSPORT, uploads=uploads)
    case_claim(actor=clerk, application_id=application.pk)
    transition_fire(
        application_id=application.pk,
        transition_code="prepare_refusal",
        actor=clerk,
        comment="Internal: the photo looks edited",
    )
    internal_note_add(actor=clerk, application_id=application.pk, note="Called the school")
    transition_fire(
        application_id=application.pk,
        transition_code="refuse",
        actor=decider,
        comment="The photo does not meet the requirements",
    )

    body = bearer(citizen).get(detail(application.number)).json()
    text = json.dumps(body, ensure_ascii=False)

    assert body["state_kind"] == "final"
    assert body["outcome"] == "refused"
    assert body["decision"] == "The photo does not meet the requirements"
    comments = [event["comment"] for event in body["history"]]
    assert "The photo does not meet the requirements" in comments
    assert "Internal: the photo looks edited" not in text
    assert "Called the school" not in text
    assert "actor" not in body["history"][0]

    case = bearer(decider).get(f"/api/v1/agency/cases/{application.number}/").json()
    assert "Internal: the photo looks edited" in [event["comment"] for event in case["history"]]
    assert [note["text"] for note in case["internal_notes"]] == ["Called the school"]
    assert InternalNote.objects.filter(application=application).count() == 1


# --- submitting -----------------------------------------------------------------------------


def test_submission_creates_the_application(citizen: User) -> None:
    response = post_json(bearer(citizen), submission(), HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 201
    body = response.json()
    application = Application.objects.get(number=body["number"])
    assert response["Location"] == f"http://testserver{detail(application.number)}"
    assert application.applicant == citizen
    assert application.service.code == CRIMINAL_RECORD
    assert application.version == published_version(CRIMINAL_RECORD)
    assert application.data == ANSWERS[CRIMINAL_RECORD]
    assert application.language == "en"
    assert application.idempotency_key == "key-1"
    assert body["state"] == "submitted"
    assert body["state_label"] == "Submitted"
    assert body["deadline"] == application.deadline.isoformat()
    whole = bearer(citizen).get(response["Location"]).json()
    assert whole["answers"] == ANSWERS[CRIMINAL_RECORD]
    assert [event["kind"] for event in whole["history"]] == ["submitted"]


def test_fields_the_form_does_not_have_are_dropped(citizen: User) -> None:
    response = post_json(bearer(citizen), submission(favourite_colour="green"))

    assert response.status_code == 201
    assert "favourite_colour" not in Application.objects.get(number=response.json()["number"]).data


def test_same_key_twice_makes_one_application(citizen: User) -> None:
    client = bearer(citizen)

    first = post_json(client, submission())
    again = post_json(client, submission())

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == first.json()
    assert "Location" not in again
    assert mine(citizen) == 1


def test_same_key_with_other_answers_is_a_409(citizen: User, unchanged: Any) -> None:
    client = bearer(citizen)
    first = post_json(client, submission())
    application = Application.objects.get(number=first.json()["number"])

    with unchanged(application):
        response = post_json(client, submission(birth_place="Гродна"), HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "idempotency_key_reused"
    assert body["detail"] == "This submission key was already used for different answers."
    assert mine(citizen) == 1


def test_two_keys_make_two_applications(citizen: User) -> None:
    client = bearer(citizen)

    first = post_json(client, submission(), key="key-1")
    second = post_json(client, submission(), key="key-2")

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["number"] != second.json()["number"]
    assert mine(citizen) == 2


def test_keys_are_per_person(citizen: User, other_citizen: User) -> None:
    first = post_json(bearer(citizen), submission(), key="shared")
    second = post_json(bearer(other_citizen), submission(), key="shared")

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["number"] != second.json()["number"]


@pytest.mark.parametrize(
    ("key", "code"),
    [
        (None, "idempotency_key_required"),
        ("", "idempotency_key_required"),
        ("   ", "idempotency_key_required"),
        ("k" * 65, "idempotency_key_invalid"),
        ("two words", "idempotency_key_invalid"),
    ],
)
def test_submission_needs_a_good_idempotency_key(
    citizen: User, unchanged: Any, key: str | None, code: str
) -> None:
    with unchanged():
        response = post_json(bearer(citizen), submission(), key=key)

    assert response.status_code == 400
    assert response.json()["code"] == code


def test_a_key_of_64_characters_is_accepted(citizen: User) -> None:
    assert post_json(bearer(citizen), submission(), key="k" * 64).status_code == 201


def test_multipart_submission_stores_the_files(citizen: User) -> None:
    body = {
        "payload": json.dumps(submission(RESIDENCE)),
        "housing_document": [pdf("contract.pdf"), pdf("extract.pdf")],
        "payment_proof": pdf("receipt.pdf"),
    }

    response = bearer(citizen).post(LIST, body, format="multipart", HTTP_IDEMPOTENCY_KEY="m-1")

    assert response.status_code == 201
    application = Application.objects.get(number=response.json()["number"])
    stored = sorted(
        (item.requirement, item.original_name, item.content_type)
        for item in Attachment.objects.filter(application=application)
    )
    assert stored == [
        ("housing_document", "contract.pdf", "application/pdf"),
        ("housing_document", "extract.pdf", "application/pdf"),
        ("payment_proof", "receipt.pdf", "application/pdf"),
    ]
    whole = bearer(citizen).get(response["Location"]).json()
    assert len(whole["attachments"]) == 3
    for item in Attachment.objects.filter(application=application):
        assert item.file.read() == PDF


def test_a_file_is_typed_by_its_content_not_its_name(citizen: User) -> None:
    body = {
        "payload": json.dumps(submission()),
        "name_change_documents": pdf("certificate.pdf", PNG),
    }

    response = bearer(citizen).post(LIST, body, format="multipart", HTTP_IDEMPOTENCY_KEY="m-2")

    assert response.status_code == 201
    [attachment] = bearer(citizen).get(response["Location"]).json()["attachments"]
    assert attachment["content_type"] == "image/png"
    assert attachment["name"] == "certificate.png"


def test_token_below_the_required_assurance_is_refused(citizen: User, unchanged: Any) -> None:
    client = bearer(citizen, assurance="low")

    with unchanged():
        response = post_json(client, submission(), HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 403
    assert response.json()["code"] == "assurance_too_low"
    assert "Substantial" in response.json()["detail"]


def test_service_needing_high_assurance_refuses_a_substantial_token(
    citizen: User, unchanged: Any
) -> None:
    Service.objects.filter(code=CRIMINAL_RECORD).update(required_assurance="high")

    with unchanged():
        response = post_json(bearer(citizen, assurance="substantial"), submission())

    assert response.status_code == 403
    assert response.json()["code"] == "assurance_too_low"
    assert post_json(bearer(citizen, assurance="high"), submission()).status_code == 201


@pytest.mark.parametrize(("level", "expected"), [("low", 403), ("substantial", 201)])
def test_session_login_is_held_to_the_session_s_assurance(
    citizen: User, level: str, expected: int
) -> None:
    client = ContractClient()
    client.force_login(citizen)
    session = client.session
    session[SESSION_LOA] = level
    session.save()

    response = post_json(client, submission())

    assert response.status_code == expected
    assert mine(citizen) == (1 if expected == 201 else 0)


def test_business_user_cannot_apply_for_a_citizens_service(business: User, unchanged: Any) -> None:
    with unchanged():
        response = post_json(bearer(business), submission(), HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 403
    assert response.json()["code"] == "not_allowed"
    assert response.json()["detail"] == "This service is for citizens."


def test_retired_version_takes_no_new_applications_but_replays_still_answer(
    citizen: User, unchanged: Any
) -> None:
    client = bearer(citizen)
    first = post_json(client, submission(), key="before")
    service_version_retire(version=published_version(CRIMINAL_RECORD))

    with unchanged():
        refused = post_json(client, submission(), key="after")
    replay = post_json(client, submission(), key="before")

    assert refused.status_code == 403
    assert refused.json()["code"] == "not_allowed"
    assert replay.status_code == 200
    assert replay.json()["number"] == first.json()["number"]


def test_service_without_any_form_cannot_be_applied_for(citizen: User, unchanged: Any) -> None:
    service = Service.objects.filter(is_published=True, versions__isnull=True).first()
    assert service is not None

    with unchanged():
        response = post_json(bearer(citizen), {"service": service.code, "answers": {}})

    assert response.status_code == 403
    assert response.json()["code"] == "not_allowed"


# --- withdrawing ----------------------------------------------------------------------------


def test_applicant_withdraws(citizen: User, application: Application) -> None:
    response = bearer(citizen).post(
        f"{detail(application.number)}withdraw/",
        {"comment": "Not needed any more"},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["state"], body["state_kind"], body["outcome"]) == (
        "withdrawn",
        "final",
        "withdrawn",
    )
    assert body["history"][-1]["transition"] == "withdraw"
    assert body["history"][-1]["comment"] == "Not needed any more"
    application.refresh_from_db()
    assert application.outcome == "withdrawn"


def test_withdrawing_needs_no_body(citizen: User, application: Application) -> None:
    response = bearer(citizen).post(f"{detail(application.number)}withdraw/")

    assert response.status_code == 200
    assert response.json()["outcome"] == "withdrawn"


def test_a_closed_application_cannot_be_withdrawn(
    citizen: User, application: Application, unchanged: Any
) -> None:
    client = bearer(citizen)
    client.post(f"{detail(application.number)}withdraw/")

    with unchanged(application):
        response = client.post(f"{detail(application.number)}withdraw/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 409
    assert response.json()["code"] == "transition_not_allowed"
    assert response.json()["detail"] == "The application can no longer be withdrawn at this stage."


def test_withdrawal_comment_has_a_limit(
    citizen: User, application: Application, unchanged: Any
) -> None:
    with unchanged(application):
        response = bearer(citizen).post(
            f"{detail(application.number)}withdraw/", {"comment": "x" * 2001}, format="json"
        )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["comment"]


# --- answering a request for information -----------------------------------------------------


@pytest.fixture
def asked(application: Application, clerk: User) -> Application:
    """The application with the clerk's open question."""
    case_claim(actor=clerk, application_id=application.pk)
    transition_fire(
        application_id=application.pk,
        transition_code="request_information",
        actor=clerk,
        comment="Send a copy of your passport",
    )
    application.refresh_from_db()
    return application


def test_applicant_sees_the_open_question(citizen: User, asked: Application) -> None:
    body = bearer(citizen).get(detail(asked.number)).json()

    assert body["state_kind"] == "waiting"
    assert body["deadline_status"] == "paused"
    assert body["information_request"]["question"] == "Send a copy of your passport"
    assert body["history"][-1]["comment"] == "Send a copy of your passport"


def test_applicant_answers_with_text(citizen: User, asked: Application) -> None:
    response = bearer(citizen).post(
        f"{detail(asked.number)}answer/", {"answer": "Attached at the office"}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "in_review"
    assert body["information_request"] is None
    assert ("answered", "Attached at the office") in [
        (event["kind"], event["comment"]) for event in body["history"]
    ]
    request = asked.information_requests.get()
    assert request.answer == "Attached at the office"
    assert request.answered_at is not None


def test_applicant_answers_with_files(citizen: User, asked: Application) -> None:
    response = bearer(citizen).post(
        f"{detail(asked.number)}answer/",
        {"answer": "Here it is", "files": [pdf("passport.pdf"), pdf("scan.png", PNG)]},
        format="multipart",
    )

    assert response.status_code == 200
    files = {(item["requirement"], item["name"]) for item in response.json()["attachments"]}
    assert files == {("", "passport.pdf"), ("", "scan.png")}
    assert Attachment.objects.filter(information_request__application=asked).count() == 2


def test_empty_answer_is_a_400(citizen: User, asked: Application, unchanged: Any) -> None:
    with unchanged(asked):
        response = bearer(citizen).post(
            f"{detail(asked.number)}answer/", {"answer": "  "}, format="json"
        )

    assert response.status_code == 400
    assert response.json()["code"] == "application_invalid"
    assert list(response.json()["errors"]) == ["answer"]


def test_answer_files_go_in_the_files_field(
    citizen: User, asked: Application, unchanged: Any
) -> None:
    with unchanged(asked):
        response = bearer(citizen).post(
            f"{detail(asked.number)}answer/",
            {"answer": "Here", "passport": pdf()},
            format="multipart",
        )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["passport"]


def test_answer_file_with_wrong_content_is_refused(
    citizen: User, asked: Application, unchanged: Any
) -> None:
    with unchanged(asked):
        response = bearer(citizen).post(
            f"{detail(asked.number)}answer/",
            {"answer": "Here", "files": [pdf("passport.pdf", b"MZ" + b"\x00" * 100)]},
            format="multipart",
        )

    assert response.status_code == 400
    assert response.json()["code"] == "file_rejected"


def test_nothing_to_answer_without_a_question(
    citizen: User, application: Application, unchanged: Any
) -> None:
    with unchanged(application):
        response = bearer(citizen).post(
            f"{detail(application.number)}answer/", {"answer": "Hello"}, format="json"
        )

    assert response.status_code == 403
    assert response.json()["code"] == "not_allowed"
