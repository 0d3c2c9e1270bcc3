"""The queue: the agency's open cases, soonest deadline first, with filters and pages."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from egov.cases import services
from egov.cases.models import Application
from egov.core.workdays import add_working_days
from tests.backoffice.conftest import CHILD_PASSPORT, office_log_in, submit

pytestmark = pytest.mark.django_db


def set_deadline(application: Application, deadline: datetime.date) -> None:
    Application.objects.filter(pk=application.pk).update(deadline=deadline)


@pytest.fixture
def cases(citizen, clerk):
    """Eight cases of the MVD, one closed, with deadlines of every kind."""
    today = timezone.localdate()
    made = {name: submit(citizen) for name in "ABCDEFG"}
    made["H"] = submit(citizen, code=CHILD_PASSPORT)
    set_deadline(made["A"], today - datetime.timedelta(days=1))  # overdue
    set_deadline(made["B"], today)  # due soon
    set_deadline(made["C"], add_working_days(today, 2))  # due soon
    set_deadline(made["D"], add_working_days(today, 3))  # not yet
    services.case_claim(actor=clerk, application_id=made["E"].pk)
    services.case_claim(actor=clerk, application_id=made["F"].pk)
    services.transition_fire(
        application_id=made["F"].pk,
        transition_code="request_information",
        actor=clerk,
        comment="Дашліце копію пашпарта.",
    )
    set_deadline(made["F"], today - datetime.timedelta(days=5))  # past, but paused
    services.case_claim(actor=clerk, application_id=made["G"].pk)
    services.transition_fire(application_id=made["G"].pk, transition_code="approve", actor=clerk)
    for application in made.values():
        application.refresh_from_db()
    return made


def queue(client, **filters):
    response = client.get("/en/office/", filters)
    return response, [row.application.number for row in response.context["rows"]]


def numbers(cases, names):
    return [cases[name].number for name in names]


def test_open_cases_sorted_by_deadline_with_their_marks(client, cases, clerk):
    office_log_in(client, clerk)
    response, listed = queue(client)
    assert response.status_code == 200
    assert listed == numbers(cases, "FABCDHE")
    assert response.context["page"].paginator.count == 7
    marks = {row.application.number: row.deadline_status for row in response.context["rows"]}
    assert marks == {
        cases["F"].number: "paused",
        cases["A"].number: "overdue",
        cases["B"].number: "soon",
        cases["C"].number: "soon",
        cases["D"].number: "ok",
        cases["H"].number: "ok",
        cases["E"].number: "ok",
    }
    labels = [row.state_label for row in response.context["rows"]]
    assert labels == ["Information requested"] + ["Being reviewed"] * 6
    body = response.content.decode()
    assert body.count('<strong class="govuk-tag govuk-tag--red">Overdue</strong>') == 1
    assert body.count('<strong class="govuk-tag govuk-tag--yellow">Due soon</strong>') == 2
    assert body.count("govuk-tag--grey") == 1
    assert "7 cases" in body
    assert cases["G"].number not in body
    assert "Каваленка Алена Сяргееўна" in body
    assert body.count("Новік Марына") == 2 + 1  # E, F and "You are logged in as"


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"due": "overdue"}, "A"),
        ({"due": "soon"}, "BC"),
        ({"assigned": "me"}, "FE"),
        ({"assigned": "unassigned"}, "ABCDH"),
        ({"service": CHILD_PASSPORT}, "H"),
        ({"service": "MVD-NO-CRIMINAL-RECORD"}, "FABCDE"),
        ({"state": "information_requested"}, "F"),
        ({"state": "in_review"}, "ABCDHE"),
        ({"state": "in_review", "assigned": "unassigned", "due": "soon"}, "BC"),
        ({"closed": "on"}, "G"),
        ({"closed": "on", "assigned": "me"}, "G"),
        ({"closed": "on", "state": "approved"}, "G"),
        ({"closed": "on", "assigned": "unassigned"}, ""),
    ],
)
def test_filters(client, cases, clerk, filters, expected):
    office_log_in(client, clerk)
    response, listed = queue(client, **filters)
    assert response.status_code == 200
    assert listed == numbers(cases, expected)
    assert response.context["page"].paginator.count == len(expected)


def test_filter_options_come_from_the_agencys_workflows(client, cases, clerk):
    office_log_in(client, clerk)
    response, _listed = queue(client)
    form = response.context["form"]
    services_offered = [code for code, _name in form.fields["service"].choices]
    assert CHILD_PASSPORT in services_offered
    assert "MVD-NO-CRIMINAL-RECORD" in services_offered
    assert "MGI-HOUSE-PERMIT" not in services_offered
    states = dict(form.fields["state"].choices)
    assert states["in_review"] == "Being reviewed"
    assert states["information_requested"] == "Information requested"
    assert "Certificate issued" in states["approved"]


def test_unknown_filter_value_is_reported_and_left_out(client, cases, clerk):
    office_log_in(client, clerk)
    response, listed = queue(client, service="NO-SUCH", due="overdue")
    assert response.status_code == 400
    body = response.content.decode()
    assert '<a href="#filter-service">Select one of the options.</a>' in body
    assert listed == numbers(cases, "A")


def test_other_agency_sees_none_of_these_cases(client, cases, other_official):
    office_log_in(client, other_official)
    for filters in ({}, {"closed": "on"}):
        response, listed = queue(client, **filters)
        assert listed == []
        assert "0 cases" in response.content.decode()


def test_queue_pages_by_fifty_and_keeps_the_filters(client, citizen, clerk):
    made = [submit(citizen) for _ in range(51)]
    office_log_in(client, clerk)
    response, listed = queue(client, assigned="unassigned")
    assert len(listed) == 50
    assert response.context["page"].paginator.num_pages == 2
    body = response.content.decode()
    assert 'href="?assigned=unassigned&amp;page=2"' in body
    assert "Page 1 of 2" in body
    response, listed = queue(client, assigned="unassigned", page="2")
    assert listed == [made[-1].number]
    response, listed = queue(client, assigned="unassigned", page="999")
    assert listed == [made[-1].number]  # past the end: the last page


def test_queue_makes_no_query_per_row(client, citizen, clerk, decider, settings):
    settings.PAGE_CACHE_SECONDS = 0  # measure rendering, not the cache
    for _ in range(2):
        submit(citizen)
    office_log_in(client, clerk)
    client.get("/en/office/")  # warm the session and the workflow cache
    with CaptureQueriesContext(connection) as few:
        client.get("/en/office/")
    for index in range(10):
        application = submit(citizen, code=CHILD_PASSPORT) if index % 2 else submit(citizen)
        services.case_claim(actor=clerk if index % 3 else decider, application_id=application.pk)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/en/office/")
    assert response.context["page"].paginator.count == 12
    assert len(many.captured_queries) == len(few.captured_queries)


def test_queue_page_is_cached_per_session_and_shows_every_change_at_once(
    client, citizen, clerk, decider, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = submit(citizen)
    office_log_in(client, clerk)
    rendered = client.get("/en/office/")
    with CaptureQueriesContext(connection) as cached:
        again = client.get("/en/office/")
    assert again.content == rendered.content
    assert not any('cases_application"."number"' in q["sql"] for q in cached.captured_queries)
    with django_capture_on_commit_callbacks(execute=True):
        services.case_claim(actor=decider, application_id=first.pk)
    with django_capture_on_commit_callbacks(execute=True):
        second = submit(citizen)
    body = client.get("/en/office/").content.decode()
    assert second.number in body
    assert decider.last_name in body
    other = Client()
    office_log_in(other, decider)
    assert other.get("/en/office/").content != rendered.content


def test_a_change_not_yet_committed_does_not_reach_the_cached_queue(
    client, citizen, clerk, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        submit(citizen)
    office_log_in(client, clerk)
    rendered = client.get("/en/office/").content
    with django_capture_on_commit_callbacks(execute=False) as pending:
        submit(citizen)
    assert client.get("/en/office/").content == rendered  # not committed: same version
    for callback in pending:
        callback()  # the commit
    assert client.get("/en/office/").content != rendered
