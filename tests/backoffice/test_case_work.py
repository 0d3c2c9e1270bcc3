"""Working on a case: the page, claiming, assigning, the workflow's actions and notes. A
refused action shows the service's message with status 400 and writes nothing."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from egov.cases import services
from egov.cases.models import Application, ApplicationEvent, InformationRequest, InternalNote
from egov.core.workdays import add_working_days
from egov.identity.models import Representation
from tests.backoffice.conftest import (
    CHILD_PASSPORT,
    PDF,
    criminal_record_data,
    office_log_in,
    snapshot,
    submit,
)
from tests.factories import OfficialFactory

pytestmark = pytest.mark.django_db


def case_url(application, tail=""):
    return f"/en/office/cases/{application.number}/{tail}"


def test_case_page_shows_the_applicant_answers_files_and_history(client, citizen, clerk):
    application = submit(
        citizen,
        data=criminal_record_data(citizen, name_changed=True, former_names="Іваненка Алена"),
        uploads={"name_change_documents": [SimpleUploadedFile("Даведка аб шлюбе.pdf", PDF)]},
    )
    attachment = application.attachments.get()
    office_log_in(client, clerk)
    response = client.get(case_url(application))
    assert response.status_code == 200
    body = response.content.decode()
    for expected in [
        f"Case {application.number}",
        "Каваленка Алена Сяргееўна",
        citizen.personal_number,
        citizen.email,
        application.service.name_en,
        "version 1",
        f"{application.deadline:%d.%m.%Y}",
        "Being reviewed",
        # answers with the definition's labels, option labels and local date format
        "Date of birth",
        "15.05.1990",
        "What do you need the certificate for?",
        "For a job",
        "How do you want to receive the certificate?",
        "In my personal e-account",
        "Have you ever changed your name?",
        "Іваненка Алена",
        # the file
        "Даведка аб шлюбе.pdf",
        "Documents showing your change of name",
        f"<code>{attachment.sha256[:12]}</code>",
        f'href="/en/office/cases/{application.number}/files/{attachment.pk}/"',
        # the history: submitted, then accepted by the system
        "Submitted",
        "Status changed: from “Submitted” to “Being reviewed”",
        "System",
    ]:
        assert expected in body, expected
    assert "employment" not in body  # the option's code is never shown
    assert [row.lines for group in response.context["answers"] for row in group.rows] == [
        [citizen.personal_number],
        ["15.05.1990"],
        ["Мінск"],
        ["Yes"],
        ["Іваненка Алена"],
        ["For a job"],
        ["In my personal e-account"],
        ["alena@example.org"],
    ]
    assert [item["event"].sequence for item in response.context["history"]] == [1, 2]


def test_case_page_speaks_the_officials_language(client, application, clerk):
    office_log_in(client, clerk)
    body = client.get(f"/ru/office/cases/{application.number}/").content.decode()
    assert "Дата рождения" in body
    assert "Для приёма на работу" in body
    assert "Рассматривается" in body


def test_clerk_claims_an_unassigned_case(client, application, clerk):
    office_log_in(client, clerk)
    page = client.get(case_url(application)).content.decode()
    assert f'action="/en/office/cases/{application.number}/claim/"' in page
    response = client.post(case_url(application, "claim/"))
    assert response.status_code == 303
    assert response["Location"] == case_url(application)
    application.refresh_from_db()
    assert application.assignee == clerk
    event = application.events.get(sequence=3)
    assert (event.kind, event.actor, event.actor_role) == ("claimed", clerk, "clerk")
    page = client.get(case_url(application)).content.decode()
    assert "You have taken the case into work." in page
    assert "You are working on this case." in page
    assert f'action="/en/office/cases/{application.number}/claim/"' not in page


def test_second_official_cannot_claim_a_claimed_case(client, application, clerk):
    services.case_claim(actor=clerk, application_id=application.pk)
    other = OfficialFactory(last_name="Жук", first_name="Ігар", official_role="clerk")
    office_log_in(client, other)
    before = snapshot(application)
    response = client.post(case_url(application, "claim/"))
    assert response.status_code == 400
    body = response.content.decode()
    assert "govuk-error-summary" in body
    assert "Новік Марына is already working on this case." in body
    assert '<a href="#assignment">' in body
    assert snapshot(application) == before


def test_clerk_cannot_assign(client, application, clerk):
    office_log_in(client, clerk)
    page = client.get(case_url(application)).content.decode()
    assert 'name="assignee"' not in page
    before = snapshot(application)
    response = client.post(case_url(application, "assign/"), {"assignee": clerk.pk})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Only a decision maker or an agency administrator assigns cases." in body
    assert snapshot(application) == before


def test_decision_maker_assigns_to_a_clerk_of_the_agency(client, application, clerk, decider):
    office_log_in(client, decider)
    page = client.get(case_url(application)).content.decode()
    assert f'<option value="{clerk.pk}">Новік Марына – Clerk</option>' in page
    response = client.post(case_url(application, "assign/"), {"assignee": clerk.pk})
    assert response.status_code == 303
    application.refresh_from_db()
    assert application.assignee == clerk
    event = application.events.get(sequence=3)
    assert (event.kind, event.actor, event.actor_role, event.comment) == (
        "assigned",
        decider,
        "decision_maker",
        "Новік Марына",
    )
    assert (
        "The case is assigned to Новік Марына."
        in client.get(case_url(application)).content.decode()
    )


def test_agency_administrator_assigns_but_cannot_claim(client, application, clerk, agency_admin):
    office_log_in(client, agency_admin)
    page = client.get(case_url(application)).content.decode()
    assert f'action="/en/office/cases/{application.number}/claim/"' not in page
    before = snapshot(application)
    response = client.post(case_url(application, "claim/"))
    assert response.status_code == 400
    assert "An agency administrator assigns cases but does not work on them." in (
        response.content.decode()
    )
    assert snapshot(application) == before
    assert client.post(case_url(application, "assign/"), {"assignee": clerk.pk}).status_code == 303
    application.refresh_from_db()
    assert application.assignee == clerk


@pytest.mark.parametrize("assignee", ["", "nobody", "0", "other-agency"])
def test_assigning_to_someone_who_is_not_an_official_of_the_agency_is_refused(
    client, application, decider, other_official, assignee
):
    if assignee == "other-agency":
        assignee = str(other_official.pk)
    office_log_in(client, decider)
    before = snapshot(application)
    response = client.post(case_url(application, "assign/"), {"assignee": assignee})
    assert response.status_code == 400
    body = response.content.decode()
    assert '<a href="#assignee">Choose an official of your agency.</a>' in body
    assert 'id="assignee-error"' in body
    assert snapshot(application) == before


def test_request_for_information_needs_the_question(client, application, clerk):
    services.case_claim(actor=clerk, application_id=application.pk)
    office_log_in(client, clerk)
    before = snapshot(application)
    response = client.post(
        case_url(application, "actions/"), {"transition": "request_information", "comment": "  "}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert (
        '<a href="#comment-request_information">Give the reasons or the question in the '
        "comment.</a>" in body
    )
    assert 'id="comment-request_information-error"' in body
    assert snapshot(application) == before
    assert InformationRequest.objects.filter(application=application).count() == 0


def test_request_for_information_pauses_the_deadline(client, application, clerk):
    services.case_claim(actor=clerk, application_id=application.pk)
    office_log_in(client, clerk)
    before = snapshot(application)
    response = client.post(
        case_url(application, "actions/"),
        {"transition": "request_information", "comment": "Дашліце копію пашпарта."},
    )
    assert response.status_code == 303
    after = snapshot(application)
    assert after["state"] == "information_requested"
    assert after["state_kind"] == "waiting"
    assert after["paused_at"] is not None
    assert after["deadline"] == before["deadline"]
    assert after["history_length"] == before["history_length"] + 1
    request = InformationRequest.objects.get(application=application)
    assert request.question == "Дашліце копію пашпарта."
    assert request.requested_by == clerk
    assert request.answer_by == add_working_days(timezone.localdate(), 10)
    page = client.get(case_url(application)).content.decode()
    assert "Done. The application is now “Information requested”." in page
    assert "Дашліце копію пашпарта." in page
    assert "Not answered yet" in page
    assert "Paused" in page


def test_approving_an_unclaimed_case_is_refused_with_the_reason(client, application, clerk):
    office_log_in(client, clerk)
    page = client.get(case_url(application)).content.decode()
    reason = "Take the case into work first: it is not assigned to you."
    assert reason in page
    assert 'name="transition" value="approve"' not in page
    before = snapshot(application)
    response = client.post(case_url(application, "actions/"), {"transition": "approve"})
    assert response.status_code == 400
    body = response.content.decode()
    assert f'<a href="#actions">{reason}</a>' in body
    assert snapshot(application) == before


def test_claimed_case_is_approved(client, application, clerk):
    services.case_claim(actor=clerk, application_id=application.pk)
    office_log_in(client, clerk)
    page = client.get(case_url(application)).content.decode()
    assert 'name="transition" value="approve"' in page
    response = client.post(
        case_url(application, "actions/"), {"transition": "approve", "comment": ""}
    )
    assert response.status_code == 303
    application.refresh_from_db()
    assert (application.state, application.state_kind, application.outcome) == (
        "approved",
        "final",
        "approved",
    )
    assert application.decided_at is not None
    page = client.get(case_url(application)).content.decode()
    assert "The case is closed: there is nothing more to do." in page


def test_unknown_action_is_refused(client, application, clerk):
    services.case_claim(actor=clerk, application_id=application.pk)
    office_log_in(client, clerk)
    before = snapshot(application)
    response = client.post(case_url(application, "actions/"), {"transition": "accept"})
    assert response.status_code == 400
    assert "This cannot be done while the application is “Being reviewed”." in (
        response.content.decode()
    )
    response = client.post(case_url(application, "actions/"), {"transition": "withdraw"})
    assert response.status_code == 400
    assert "Your role cannot do this." in response.content.decode()
    response = client.post(case_url(application, "actions/"), {"transition": "no-such"})
    assert response.status_code == 400
    assert "There is no such action for this application." in response.content.decode()
    assert snapshot(application) == before


def test_four_eyes_the_preparer_cannot_decide(client, citizen, clerk, decider):
    application = submit(citizen, code=CHILD_PASSPORT)
    office_log_in(client, clerk)
    assert client.post(case_url(application, "claim/")).status_code == 303
    response = client.post(
        case_url(application, "actions/"), {"transition": "prepare_approval", "comment": ""}
    )
    assert response.status_code == 303
    application.refresh_from_db()
    assert application.state == "approval_prepared"

    # a clerk is not offered the decision, and cannot force it
    page = client.get(case_url(application)).content.decode()
    assert 'name="transition" value="approve"' not in page
    before = snapshot(application)
    response = client.post(case_url(application, "actions/"), {"transition": "approve"})
    assert response.status_code == 400
    assert "Your role cannot do this." in response.content.decode()
    assert snapshot(application) == before

    # the same person, since made a decision maker, still cannot decide what they prepared
    clerk.official_role = "decision_maker"
    clerk.save(update_fields=["official_role"])
    page = client.get(case_url(application)).content.decode()
    reason = "The decision must be taken by someone other than the one who prepared it."
    assert reason in page
    response = client.post(case_url(application, "actions/"), {"transition": "approve"})
    assert response.status_code == 400
    assert reason in response.content.decode()
    assert snapshot(application) == before

    # another decision maker decides
    office_log_in(client, decider)
    response = client.post(
        case_url(application, "actions/"), {"transition": "approve", "comment": "Усё ў парадку."}
    )
    assert response.status_code == 303
    application.refresh_from_db()
    assert (application.state, application.outcome, application.decision_text) == (
        "approved",
        "approved",
        "Усё ў парадку.",
    )
    last = application.events.order_by("-sequence").first()
    assert (last.kind, last.actor, last.from_state, last.to_state) == (
        ApplicationEvent.Kind.TRANSITION,
        decider,
        "approval_prepared",
        "approved",
    )


def test_internal_note_is_added_and_shown(client, application, clerk):
    office_log_in(client, clerk)
    response = client.post(case_url(application, "notes/"), {"note": "Праверыць па базе МУС."})
    assert response.status_code == 303
    note = InternalNote.objects.get(application=application)
    assert (note.author, note.text) == (clerk, "Праверыць па базе МУС.")
    page = client.get(case_url(application)).content.decode()
    assert "Your note has been added." in page
    assert "Праверыць па базе МУС." in page


@pytest.mark.parametrize(
    ("note", "message"),
    [("   ", "Write the note."), ("x" * 5001, "Enter 5000 characters or fewer.")],
)
def test_empty_or_long_note_is_refused(client, application, clerk, note, message):
    office_log_in(client, clerk)
    before = snapshot(application)
    response = client.post(case_url(application, "notes/"), {"note": note})
    assert response.status_code == 400
    body = response.content.decode()
    assert f'<a href="#note">{message}</a>' in body
    assert snapshot(application) == before


def test_too_long_comment_is_refused_and_kept(client, application, clerk):
    services.case_claim(actor=clerk, application_id=application.pk)
    office_log_in(client, clerk)
    before = snapshot(application)
    comment = "ы" * 5001
    response = client.post(
        case_url(application, "actions/"), {"transition": "refuse", "comment": comment}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert '<a href="#comment-refuse">Enter 5000 characters or fewer.</a>' in body
    assert comment in body
    assert snapshot(application) == before


def test_case_page_names_the_organisation_applied_for(client, application, clerk):
    Representation.objects.create(
        user=application.applicant,
        unp="192541238",
        organisation_name="ТАА «Лясны край»",
        basis=Representation.Basis.DIRECTOR,
    )
    Application.objects.filter(pk=application.pk).update(on_behalf_unp="192541238")
    office_log_in(client, clerk)
    body = client.get(case_url(application)).content.decode()
    assert "On behalf of" in body
    assert "ТАА «Лясны край», UNP 192541238" in body
