"""An agency's cases: the queue, a case, taking it into work and moving it along."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from egov.cases.models import Application
from egov.cases.services import case_claim, internal_note_add
from egov.identity.models import User
from tests.api.conftest import RESIDENCE, ContractClient, bearer, pdf, submit

pytestmark = pytest.mark.django_db

QUEUE = "/api/v1/agency/cases/"


def case(number: str, action: str = "") -> str:
    return f"/api/v1/agency/cases/{number}/{action + '/' if action else ''}"


def numbers(response: Any) -> list[str]:
    return [item["number"] for item in response.json()["results"]]


def fire(
    client: ContractClient, application: Application, transition: str, comment: str = ""
) -> Any:
    return client.post(
        case(application.number, "transitions"),
        {"transition": transition, "comment": comment},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )


# --- the queue ------------------------------------------------------------------------------


def test_queue_holds_the_agency_s_open_cases_soonest_deadline_first(
    citizen: User, clerk: User
) -> None:
    later = submit(citizen)
    sooner = submit(citizen, RESIDENCE, uploads={"housing_document": [pdf()]})
    closed = submit(citizen)
    Application.objects.filter(pk=closed.pk).update(
        state="withdrawn", state_kind="final", outcome="withdrawn"
    )

    response = bearer(clerk).get(QUEUE, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert numbers(response) == [sooner.number, later.number]
    item = response.json()["results"][1]
    assert item["applicant_name"] == citizen.full_name
    assert item["assignee"] is None
    assert item["state_label"] == "Being reviewed"


def test_another_agency_s_queue_does_not_hold_the_case(citizen: User, foreign_clerk: User) -> None:
    submit(citizen)

    response = bearer(foreign_clerk).get(QUEUE)

    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_queue_filters(citizen: User, clerk: User, decider: User) -> None:
    mine = submit(citizen)
    theirs = submit(citizen)
    unassigned = submit(citizen, RESIDENCE, uploads={"housing_document": [pdf()]})
    closed = submit(citizen)
    case_claim(actor=clerk, application_id=mine.pk)
    case_claim(actor=decider, application_id=theirs.pk)
    Application.objects.filter(pk=closed.pk).update(
        state="withdrawn", state_kind="final", outcome="withdrawn"
    )
    today = timezone.localdate()
    Application.objects.filter(pk=mine.pk).update(deadline=today - timedelta(days=1))
    Application.objects.filter(pk=theirs.pk).update(deadline=today)
    client = bearer(clerk)

    assert numbers(client.get(QUEUE, {"assigned": "me"})) == [mine.number]
    assert numbers(client.get(QUEUE, {"assigned": "unassigned"})) == [unassigned.number]
    assert numbers(client.get(QUEUE, {"service": RESIDENCE})) == [unassigned.number]
    assert numbers(client.get(QUEUE, {"closed": "true"})) == [closed.number]
    assert numbers(client.get(QUEUE, {"due": "overdue"})) == [mine.number]
    assert numbers(client.get(QUEUE, {"due": "soon"})) == [theirs.number]
    assert set(numbers(client.get(QUEUE, {"state": "in_review"}))) == {
        mine.number,
        theirs.number,
        unassigned.number,
    }
    assert client.get(QUEUE, {"due": "overdue"}).json()["results"][0]["deadline_status"] == (
        "overdue"
    )


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"due": "yesterday"}, "due"),
        ({"assigned": "everyone"}, "assigned"),
        ({"closed": "maybe"}, "closed"),
        ({"state": "x" * 51}, "state"),
    ],
)
def test_bad_queue_filter_is_a_400(clerk: User, query: dict[str, str], field: str) -> None:
    response = bearer(clerk).get(QUEUE, query)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


# --- a case ---------------------------------------------------------------------------------


def test_case_shows_everything_the_agency_works_with(
    application: Application, clerk: User, citizen: User
) -> None:
    internal_note_add(actor=clerk, application_id=application.pk, note="Checked the register")

    body = bearer(clerk).get(case(application.number), HTTP_ACCEPT_LANGUAGE="en").json()

    assert body["number"] == application.number
    assert body["applicant"] == {
        "id": citizen.pk,
        "name": citizen.full_name,
        "personal_number": citizen.personal_number,
        "email": citizen.email,
    }
    assert body["answers"] == application.data
    assert [note["text"] for note in body["internal_notes"]] == ["Checked the register"]
    assert body["internal_notes"][0]["author"] == {"id": clerk.pk, "name": clerk.full_name}
    assert body["history"][0]["actor"] == {"id": citizen.pk, "name": citizen.full_name}
    assert body["history"][1]["actor"] is None
    actions = {action["transition"]: action for action in body["available_actions"]}
    assert set(actions) == {"request_information", "approve", "refuse"}
    assert actions["approve"] == {
        "transition": "approve",
        "label": "Issue the certificate",
        "allowed": False,
        "reason": "Take the case into work first: it is not assigned to you.",
        "comment_required": False,
    }
    assert actions["refuse"]["comment_required"] is True


def test_claiming_assigns_the_case_and_opens_the_actions(
    application: Application, clerk: User
) -> None:
    response = bearer(clerk).post(case(application.number, "claim"))

    assert response.status_code == 200
    body = response.json()
    assert body["assignee"] == {"id": clerk.pk, "name": clerk.full_name}
    assert all(action["allowed"] for action in body["available_actions"])
    assert body["history"][-1]["kind"] == "claimed"
    application.refresh_from_db()
    assert application.assignee == clerk


def test_claiming_a_case_someone_else_works_on_is_refused(
    application: Application, clerk: User, decider: User, unchanged: Any
) -> None:
    case_claim(actor=clerk, application_id=application.pk)

    with unchanged(application):
        response = bearer(decider).post(case(application.number, "claim"))

    assert response.status_code == 403
    assert response.json()["code"] == "not_allowed"


def test_firing_an_allowed_transition_moves_the_case(application: Application, clerk: User) -> None:
    case_claim(actor=clerk, application_id=application.pk)

    response = fire(bearer(clerk), application, "approve", "All in order")

    assert response.status_code == 200
    body = response.json()
    assert (body["state"], body["state_kind"], body["outcome"]) == ("approved", "final", "approved")
    assert body["decision"] == "All in order"
    assert body["available_actions"] == []
    assert body["history"][-1]["transition"] == "approve"


def test_asking_for_information_opens_a_request(application: Application, clerk: User) -> None:
    case_claim(actor=clerk, application_id=application.pk)

    response = fire(bearer(clerk), application, "request_information", "Which employer?")

    assert response.status_code == 200
    [request] = response.json()["information_requests"]
    assert request["question"] == "Which employer?"
    assert request["answer"] == ""
    assert request["answered_at"] is None
    assert response.json()["deadline_status"] == "paused"


@pytest.mark.parametrize(
    ("claim", "transition", "comment", "reason"),
    [
        (False, "approve", "", "Take the case into work first: it is not assigned to you."),
        (True, "refuse", "  ", "Give the reasons or the question in the comment."),
        (True, "answer", "", "This cannot be done while the application is “Being reviewed”."),
        (True, "withdraw", "", "Your role cannot do this."),
        (True, "no_such_thing", "", "There is no such action for this application."),
    ],
)
def test_a_transition_not_allowed_is_a_409_with_the_reason(
    application: Application,
    clerk: User,
    unchanged: Any,
    claim: bool,
    transition: str,
    comment: str,
    reason: str,
) -> None:
    if claim:
        case_claim(actor=clerk, application_id=application.pk)

    with unchanged(application):
        response = fire(bearer(clerk), application, transition, comment)

    assert response.status_code == 409
    assert response.json()["code"] == "transition_not_allowed"
    assert response.json()["detail"] == reason


@pytest.mark.parametrize(
    "body", [{}, {"transition": ""}, {"transition": "approve", "comment": "x" * 5001}]
)
def test_bad_transition_body_is_a_400(
    application: Application, clerk: User, unchanged: Any, body: dict[str, str]
) -> None:
    with unchanged(application):
        response = bearer(clerk).post(case(application.number, "transitions"), body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_official_s_token_must_be_substantial(
    application: Application, clerk: User, unchanged: Any
) -> None:
    client = bearer(clerk, assurance="low")

    with unchanged(application):
        responses = [
            client.get(QUEUE),
            client.get(case(application.number)),
            client.post(case(application.number, "claim")),
        ]

    assert [response.status_code for response in responses] == [403, 403, 403]
    assert {response.json()["code"] for response in responses} == {"assurance_too_low"}
