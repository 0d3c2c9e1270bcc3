"""Applying in the portal: page by page, documents, check your answers, submit once."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from egov.cases.models import Application, Attachment, Draft
from egov.core.worker import tasks_run_pending
from tests.factories import PDF, PNG, UserFactory, login

pytestmark = pytest.mark.django_db

BIRTH = "200.5.1"


def _start(client, code: str = BIRTH) -> str:
    response = client.post(f"/en/services/{code}/apply/")
    assert response.status_code == 302
    return response["Location"]


def _fill_birth(client, first_step: str) -> str:
    draft_id = first_step.split("/")[4]
    response = client.post(
        first_step,
        {
            "child_last_name": "Мароз",
            "child_first_name": "Ганна",
            "child_sex": "female",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == f"/en/my-account/drafts/{draft_id}/birth/"
    response = client.post(
        response["Location"],
        {
            "child_birth_date-day": "20",
            "child_birth_date-month": "11",
            "child_birth_date-year": "2026",
            "birth_place": "Мінск, 5-я гарадская клінічная бальніца",
        },
    )
    assert response["Location"] == f"/en/my-account/drafts/{draft_id}/parents/"
    response = client.post(response["Location"], {"parents_married": "no"})
    assert response["Location"] == f"/en/my-account/drafts/{draft_id}/documents/"
    return draft_id


def test_citizen_applies_page_by_page_and_submits_once(client):
    citizen = UserFactory()
    login(client, citizen)
    draft_id = _fill_birth(client, _start(client))
    documents = f"/en/my-account/drafts/{draft_id}/documents/"
    upload = SimpleUploadedFile("даведка.pdf", PDF, content_type="application/pdf")
    response = client.post(documents, {"requirement": "medical_birth_certificate", "file": upload})
    assert response.status_code == 302
    check = client.get(f"/en/my-account/drafts/{draft_id}/check/")
    page = check.content.decode()
    assert check.status_code == 200
    assert "Ганна" in page and "20.11.2026" in page and "даведка.pdf" in page
    first = client.post(f"/en/my-account/drafts/{draft_id}/check/")
    second = client.post(f"/en/my-account/drafts/{draft_id}/check/")  # a double click
    application = Application.objects.get(applicant=citizen)
    assert (
        first["Location"]
        == second["Location"]
        == f"/en/my-account/applications/{application.number}/"
    )
    assert application.number.startswith("MINJUST-2026-")
    assert application.data == {
        "child_last_name": "Мароз",
        "child_first_name": "Ганна",
        "child_sex": "female",
        "child_birth_date": "2026-11-20",
        "birth_place": "Мінск, 5-я гарадская клінічная бальніца",
        "parents_married": False,
    }
    assert list(application.attachments.values_list("original_name", "content_type")) == [
        ("даведка.pdf", "application/pdf")
    ]
    assert not Draft.objects.filter(pk=draft_id).exists()
    detail = client.get(first["Location"])
    assert application.number in detail.content.decode()
    assert application.deadline.strftime("%d.%m.%Y") in detail.content.decode()


def test_errors_are_shown_at_their_fields_and_nothing_is_saved(client):
    citizen = UserFactory()
    login(client, citizen)
    step = _start(client)
    draft_id = step.split("/")[4]
    response = client.post(step, {"child_last_name": "", "child_first_name": "x" * 101})
    page = response.content.decode()
    assert response.status_code == 400
    assert 'href="#f-child_last_name"' in page
    assert "Enter an answer." in page
    assert "Enter 100 characters or fewer." in page
    assert "Select an answer." in page  # the sex, a choice
    assert Draft.objects.get(pk=draft_id).data == {}
    # what was typed is shown back
    assert 'value="' + "x" * 101 + '"' in page


def test_a_date_that_does_not_exist_is_refused(client):
    login(client, UserFactory())
    draft_id = _start(client).split("/")[4]
    birth = f"/en/my-account/drafts/{draft_id}/birth/"
    response = client.post(
        birth,
        {
            "child_birth_date-day": "31",
            "child_birth_date-month": "2",
            "child_birth_date-year": "2026",
            "birth_place": "Мінск",
        },
    )
    assert response.status_code == 400
    assert "Enter a real date, for example 27 3 2026." in response.content.decode()
    assert Draft.objects.get(pk=draft_id).data == {}


def test_conditional_question_is_required_only_when_it_applies(client):
    login(client, UserFactory())
    draft_id = _start(client).split("/")[4]
    parents = f"/en/my-account/drafts/{draft_id}/parents/"
    response = client.post(parents, {"parents_married": "yes"})
    assert response.status_code == 400
    assert 'href="#f-other_parent_personal_number"' in response.content.decode()
    response = client.post(
        parents,
        {
            "parents_married": "yes",
            "other_parent_full_name": "Мароз Пётр Іванавіч",
            "other_parent_personal_number": "12",
        },
    )
    assert response.status_code == 400
    assert "Enter the 14 characters of the identification number" in response.content.decode()


def test_a_file_is_judged_by_its_content_not_its_name(client):
    login(client, UserFactory())
    draft_id = _fill_birth(client, _start(client))
    documents = f"/en/my-account/drafts/{draft_id}/documents/"
    fake = SimpleUploadedFile("scan.pdf", b"MZ\x90\x00" + b"\x00" * 100)
    response = client.post(documents, {"requirement": "medical_birth_certificate", "file": fake})
    assert response.status_code == 400
    assert "The file must be a PDF, JPG, PNG. Its content is not." in response.content.decode()
    assert Attachment.objects.filter(draft_id=draft_id).count() == 0
    empty = SimpleUploadedFile("scan.pdf", b"")
    response = client.post(documents, {"requirement": "medical_birth_certificate", "file": empty})
    assert "The selected file is empty." in response.content.decode()
    big = SimpleUploadedFile("scan.png", PNG + b"\x00" * (5 * 1024 * 1024))
    response = client.post(documents, {"requirement": "medical_birth_certificate", "file": big})
    assert "The file must be smaller than 5 MB." in response.content.decode()
    assert Attachment.objects.filter(draft_id=draft_id).count() == 0
    unknown = SimpleUploadedFile("scan.pdf", PDF)
    response = client.post(documents, {"requirement": "nonsense", "file": unknown})
    assert response.status_code == 400
    assert Attachment.objects.filter(draft_id=draft_id).count() == 0


def test_too_many_files_are_refused(client):
    login(client, UserFactory())
    draft_id = _fill_birth(client, _start(client))
    documents = f"/en/my-account/drafts/{draft_id}/documents/"
    files = [SimpleUploadedFile(f"{n}.pdf", PDF) for n in range(2)]
    response = client.post(documents, {"requirement": "medical_birth_certificate", "file": files})
    assert response.status_code == 400
    assert "You can attach no more than 1 files here." in response.content.decode()
    assert Attachment.objects.filter(draft_id=draft_id).count() == 0


def test_submission_without_a_required_document_says_what_is_missing(client):
    citizen = UserFactory()
    login(client, citizen)
    draft_id = _fill_birth(client, _start(client))
    response = client.post(f"/en/my-account/drafts/{draft_id}/check/")
    assert response.status_code == 400
    assert "Medical certificate of birth: Attach this document." in response.content.decode()
    assert Application.objects.filter(applicant=citizen).count() == 0


def test_drafts_are_resumed_and_deleted(client):
    citizen = UserFactory()
    login(client, citizen)
    draft_id = _start(client).split("/")[4]
    client.post(
        f"/en/my-account/drafts/{draft_id}/child/",
        {"child_last_name": "Мароз", "child_first_name": "Ганна", "child_sex": "female"},
    )
    listing = client.get("/en/my-account/drafts/").content.decode()
    assert f"/en/my-account/drafts/{draft_id}/" in listing
    resume = client.get(f"/en/my-account/drafts/{draft_id}/")
    assert resume["Location"] == f"/en/my-account/drafts/{draft_id}/birth/"
    assert client.get(f"/en/my-account/drafts/{draft_id}/delete/").status_code == 200
    client.post(f"/en/my-account/drafts/{draft_id}/delete/")
    assert not Draft.objects.filter(pk=draft_id).exists()


def test_another_person_cannot_open_or_change_a_draft(client):
    owner = UserFactory()
    login(client, owner)
    draft_id = _start(client).split("/")[4]
    login(client, UserFactory())
    for path in ("", "child/", "documents/", "check/", "delete/"):
        assert client.get(f"/en/my-account/drafts/{draft_id}/{path}").status_code == 404
    assert client.post(f"/en/my-account/drafts/{draft_id}/delete/").status_code == 404
    assert (
        client.post(
            f"/en/my-account/drafts/{draft_id}/child/", {"child_last_name": "X"}
        ).status_code
        == 404
    )
    assert Draft.objects.get(pk=draft_id).data == {}


def test_a_password_only_login_is_sent_to_step_up_before_the_form(client):
    citizen = UserFactory()
    login(client, citizen, assurance="low")
    response = client.post(f"/en/services/{BIRTH}/apply/")
    assert response["Location"].startswith("/en/account/verify/")
    assert Draft.objects.filter(applicant=citizen).count() == 0


def test_officials_cannot_apply_for_citizens_services(client):
    from tests.factories import OfficialFactory

    official = OfficialFactory()
    login(client, official)
    response = client.post(f"/en/services/{BIRTH}/apply/")
    assert response.status_code == 302
    assert Draft.objects.filter(applicant=official).count() == 0
    assert "This service is for citizens." in client.get(response["Location"]).content.decode()


def test_the_automatic_step_runs_in_the_background_and_tells_the_applicant(client, mailbox):
    citizen = UserFactory(language="en")
    login(client, citizen)
    draft_id = _fill_birth(client, _start(client))
    client.post(
        f"/en/my-account/drafts/{draft_id}/documents/",
        {"requirement": "medical_birth_certificate", "file": SimpleUploadedFile("a.pdf", PDF)},
    )
    client.post(f"/en/my-account/drafts/{draft_id}/check/")
    application = Application.objects.get(applicant=citizen)
    assert application.state == "submitted"
    tasks_run_pending()
    application.refresh_from_db()
    assert application.state == "in_review"
    inbox = client.get("/en/my-account/inbox/").content.decode()
    assert f"Application {application.number} received" in inbox
    assert len(mailbox.messages) == 1
    assert mailbox.messages[0]["To"] == citizen.email
