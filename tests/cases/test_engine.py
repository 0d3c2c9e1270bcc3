"""The workflow engine: what each role may do, and properties that hold for any sequence."""

from __future__ import annotations

import itertools

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from egov.cases import services
from egov.cases.models import Application, ApplicationEvent, InformationRequest
from egov.cases.workflow import TransitionNotAllowed, workflow_of
from egov.catalog.models import Agency
from egov.core.errors import ApplicationError
from tests.factories import (
    COMPLAINT_ANSWERS,
    CRIMINAL_RECORD_ANSWERS,
    OfficialFactory,
    UserFactory,
    published,
    submitted,
)

pytestmark = pytest.mark.django_db

COMPLAINT = "MGI-ADM-COMPLAINT"
CRIMINAL = "MVD-NO-CRIMINAL-RECORD"


@pytest.fixture
def mgi():
    agency = Agency.objects.get(code="MGI")
    return {
        "clerk": OfficialFactory(agency=agency, official_role="clerk"),
        "decider": OfficialFactory(agency=agency, official_role="decision_maker"),
        "stranger": OfficialFactory(agency=Agency.objects.get(code="MVD"), official_role="clerk"),
    }


def _snapshot(application: Application) -> tuple:
    application.refresh_from_db()
    return (
        application.state,
        application.state_kind,
        application.outcome,
        application.deadline,
        application.paused_at,
        application.assignee_id,
        application.history_length,
        application.events.count(),
        InformationRequest.objects.filter(application=application).count(),
    )


def test_submission_runs_the_automatic_step_once(citizen_application):
    application = citizen_application
    assert application.state == "in_review"
    assert list(application.events.values_list("sequence", "kind", "from_state", "to_state")) == [
        (1, "submitted", "", "submitted"),
        (2, "transition", "submitted", "in_review"),
    ]
    assert services.application_advance(application_id=application.pk) == []
    assert application.events.count() == 2


@pytest.fixture
def citizen_application():
    return submitted(CRIMINAL, UserFactory(), CRIMINAL_RECORD_ANSWERS)


def test_official_must_claim_before_deciding(citizen_application):
    clerk = OfficialFactory(official_role="clerk")
    before = _snapshot(citizen_application)
    with pytest.raises(TransitionNotAllowed, match="Take the case into work first"):
        services.transition_fire(
            application_id=citizen_application.pk, transition_code="approve", actor=clerk
        )
    assert _snapshot(citizen_application) == before
    services.case_claim(actor=clerk, application_id=citizen_application.pk)
    services.transition_fire(
        application_id=citizen_application.pk,
        transition_code="approve",
        actor=clerk,
        comment="Certificate issued.",
    )
    citizen_application.refresh_from_db()
    assert (citizen_application.state_kind, citizen_application.outcome) == ("final", "approved")
    assert citizen_application.decision_text == "Certificate issued."


def test_official_of_another_agency_can_do_nothing(citizen_application):
    stranger = OfficialFactory(agency=Agency.objects.get(code="MINTRUDA"))
    before = _snapshot(citizen_application)
    with pytest.raises(ApplicationError):
        services.case_claim(actor=stranger, application_id=citizen_application.pk)
    with pytest.raises(TransitionNotAllowed, match="Your role cannot do this"):
        services.transition_fire(
            application_id=citizen_application.pk, transition_code="refuse", actor=stranger
        )
    assert _snapshot(citizen_application) == before


def test_request_for_information_pauses_the_deadline_until_answered(citizen_application):
    clerk = OfficialFactory(official_role="clerk")
    services.case_claim(actor=clerk, application_id=citizen_application.pk)
    with pytest.raises(TransitionNotAllowed, match="Give the reasons or the question"):
        services.transition_fire(
            application_id=citizen_application.pk,
            transition_code="request_information",
            actor=clerk,
            comment="   ",
        )
    services.transition_fire(
        application_id=citizen_application.pk,
        transition_code="request_information",
        actor=clerk,
        comment="Which employer asks for the certificate?",
    )
    citizen_application.refresh_from_db()
    assert citizen_application.state == "information_requested"
    assert citizen_application.paused_at is not None
    request = citizen_application.information_requests.get()
    assert request.question == "Which employer asks for the certificate?"
    with pytest.raises(services.ApplicationInvalid):
        services.information_answer(
            actor=citizen_application.applicant,
            application_id=citizen_application.pk,
            answer="",
            uploads=[],
        )
    services.information_answer(
        actor=citizen_application.applicant,
        application_id=citizen_application.pk,
        answer="ААТ «Белшына»",
        uploads=[],
    )
    citizen_application.refresh_from_db()
    assert citizen_application.state == "in_review"
    assert citizen_application.paused_at is None
    request.refresh_from_db()
    assert request.answer == "ААТ «Белшына»"


def test_four_eyes_the_preparer_cannot_decide(mgi):
    application = submitted(COMPLAINT, UserFactory(), COMPLAINT_ANSWERS)
    services.case_claim(actor=mgi["clerk"], application_id=application.pk)
    services.transition_fire(
        application_id=application.pk, transition_code="prepare_approval", actor=mgi["clerk"]
    )
    with pytest.raises(TransitionNotAllowed):
        services.transition_fire(
            application_id=application.pk, transition_code="approve", actor=mgi["clerk"]
        )
    services.transition_fire(
        application_id=application.pk,
        transition_code="approve",
        actor=mgi["decider"],
        comment="The complaint is upheld.",
    )
    application.refresh_from_db()
    assert application.outcome == "approved"
    decision = application.events.order_by("-sequence").first()
    assert decision.actor == mgi["decider"]
    assert decision.actor_role == "decision_maker"


def test_a_decision_maker_who_prepared_cannot_approve_it_himself(mgi):
    application = submitted(COMPLAINT, UserFactory(), COMPLAINT_ANSWERS)
    decider = mgi["decider"]
    services.case_claim(actor=decider, application_id=application.pk)
    # prepare_approval is a clerk's step; a decision maker cannot even prepare
    with pytest.raises(TransitionNotAllowed):
        services.transition_fire(
            application_id=application.pk, transition_code="prepare_approval", actor=decider
        )


def test_withdrawal_is_possible_only_before_the_decision(citizen_application):
    applicant = citizen_application.applicant
    services.application_withdraw(actor=applicant, application_id=citizen_application.pk)
    citizen_application.refresh_from_db()
    assert citizen_application.outcome == "withdrawn"
    before = _snapshot(citizen_application)
    with pytest.raises(TransitionNotAllowed):
        services.application_withdraw(actor=applicant, application_id=citizen_application.pk)
    assert _snapshot(citizen_application) == before


def test_another_citizen_cannot_withdraw_or_answer(citizen_application):
    other = UserFactory()
    before = _snapshot(citizen_application)
    with pytest.raises(ApplicationError):
        services.application_withdraw(actor=other, application_id=citizen_application.pk)
    with pytest.raises(ApplicationError):
        services.information_answer(
            actor=other, application_id=citizen_application.pk, answer="x", uploads=[]
        )
    assert _snapshot(citizen_application) == before


def test_rating_only_after_a_decision_and_only_once(citizen_application):
    applicant = citizen_application.applicant
    with pytest.raises(ApplicationError, match="once a decision has been made"):
        services.application_rate(actor=applicant, application_id=citizen_application.pk, score=5)
    clerk = OfficialFactory(official_role="clerk")
    services.case_claim(actor=clerk, application_id=citizen_application.pk)
    services.transition_fire(
        application_id=citizen_application.pk, transition_code="approve", actor=clerk
    )
    for bad in (0, 6, -1):
        with pytest.raises(services.ApplicationInvalid):
            services.application_rate(
                actor=applicant, application_id=citizen_application.pk, score=bad
            )
    services.application_rate(
        actor=applicant, application_id=citizen_application.pk, score=4, comment="Quick."
    )
    with pytest.raises(ApplicationError, match="already rated"):
        services.application_rate(actor=applicant, application_id=citizen_application.pk, score=1)
    assert citizen_application.rating.score == 4


ACTORS = ["applicant", "clerk", "decider", "stranger", "other_citizen", "system"]
ACTIONS = [
    "accept",
    "request_information",
    "answer",
    "prepare_approval",
    "prepare_refusal",
    "approve",
    "refuse",
    "return_for_review",
    "withdraw",
    "claim",
    "answer_request",
    "assign_clerk",
]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(ACTORS), st.sampled_from(ACTIONS), st.booleans()),
        min_size=1,
        max_size=14,
    )
)
def test_any_sequence_keeps_the_invariants(mgi, steps):
    with transaction.atomic():
        applicant = UserFactory()
        people = {
            "applicant": applicant,
            "clerk": mgi["clerk"],
            "decider": mgi["decider"],
            "stranger": mgi["stranger"],
            "other_citizen": UserFactory(),
            "system": None,
        }
        application = submitted(COMPLAINT, applicant, COMPLAINT_ANSWERS, advance=False)
        workflow = workflow_of(application)
        for actor_name, action, with_comment in steps:
            actor = people[actor_name]
            before = _snapshot(application)
            comment = "Reasons given." if with_comment else ""
            try:
                if actor is None:
                    services.application_advance(application_id=application.pk)
                elif action == "claim":
                    services.case_claim(actor=actor, application_id=application.pk)
                elif action == "assign_clerk":
                    services.case_assign(
                        actor=actor, application_id=application.pk, assignee_id=mgi["clerk"].pk
                    )
                elif action == "answer_request":
                    services.information_answer(
                        actor=actor, application_id=application.pk, answer=comment, uploads=[]
                    )
                else:
                    services.transition_fire(
                        application_id=application.pk,
                        transition_code=action,
                        actor=actor,
                        comment=comment,
                    )
                changed = True
            except ApplicationError:
                changed = False
            after = _snapshot(application)
            if not changed:
                assert after == before, f"{actor_name} {action} failed but changed something"
            if before[2]:  # it was final: nothing moves any more
                assert after[:3] == before[:3]
            _invariants(application, workflow)
        transaction.set_rollback(True)


def _invariants(application: Application, workflow) -> None:
    application.refresh_from_db()
    state = workflow.states[application.state]
    assert application.state_kind == state.kind
    assert application.outcome == (state.outcome or "")
    events = list(application.events.order_by("sequence"))
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    assert application.history_length == len(events)
    moves = [e for e in events if e.kind in ("submitted", "transition")]
    assert moves[0].kind == "submitted"
    for previous, current in itertools.pairwise(moves):
        assert current.from_state == previous.to_state
    assert moves[-1].to_state == application.state
    open_requests = application.information_requests.filter(answered_at__isnull=True).count()
    assert open_requests == (1 if state.kind == "waiting" else 0)
    assert (application.paused_at is not None) == (state.kind == "waiting")
    for event in events:
        if event.kind == ApplicationEvent.Kind.TRANSITION and event.to_state in (
            "approved",
            "refused",
        ):
            assert event.actor_role == "decision_maker"
            previous = [e for e in events if e.kind == "transition" and e.sequence < event.sequence]
            assert previous[-1].actor_id != event.actor_id


def test_set_deadline_action_and_a_new_version_apply_to_new_applications_only():
    import copy

    from django.utils import timezone

    from egov.catalog.models import Service
    from egov.catalog.services import service_version_create, service_version_publish
    from egov.core.workdays import add_working_days

    service = Service.objects.get(code=CRIMINAL)
    old = submitted(CRIMINAL, UserFactory(), CRIMINAL_RECORD_ANSWERS, key="old")
    definition = copy.deepcopy(service.versions.get(status="published").definition)
    accept = next(t for t in definition["workflow"]["transitions"] if t["code"] == "accept")
    accept["actions"].append({"type": "set_deadline", "working_days": 30})
    service_version_publish(version=service_version_create(service=service, definition=definition))
    new = submitted(CRIMINAL, UserFactory(), CRIMINAL_RECORD_ANSWERS, key="new")
    assert new.deadline == add_working_days(timezone.localdate(), 30)
    old.refresh_from_db()
    assert old.deadline == add_working_days(timezone.localdate(old.submitted_at), 15)


def test_a_failure_after_files_were_stored_leaves_no_file_behind(monkeypatch, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from egov.cases.models import Attachment
    from tests.factories import PDF

    settings.MEDIA_ROOT = tmp_path
    saved = []
    original = Attachment.save

    def save_then_fail(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if saved:
            raise OSError("disk full")
        saved.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Attachment, "save", save_then_fail)
    answers = {**CRIMINAL_RECORD_ANSWERS, "name_changed": True, "former_names": "Іванова"}
    with pytest.raises(OSError):
        services.application_submit(
            applicant=UserFactory(),
            version=published(CRIMINAL),
            data=answers,
            idempotency_key="files",
            language="en",
            uploads={
                "name_change_documents": [
                    SimpleUploadedFile("a.pdf", PDF),
                    SimpleUploadedFile("b.pdf", PDF),
                ]
            },
        )
    assert Application.objects.filter(idempotency_key="files").count() == 0
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_a_retry_after_a_new_version_returns_the_first_application():
    import copy

    from egov.catalog.models import Service
    from egov.catalog.services import service_version_create, service_version_publish

    applicant = UserFactory()
    first = submitted(CRIMINAL, applicant, CRIMINAL_RECORD_ANSWERS, key="retry", advance=False)
    service = Service.objects.get(code=CRIMINAL)
    definition = copy.deepcopy(first.version.definition)
    definition["deadline_working_days"] = 5
    service_version_publish(version=service_version_create(service=service, definition=definition))
    again, created = services.application_submit(
        applicant=applicant,
        version=published(CRIMINAL),
        data=CRIMINAL_RECORD_ANSWERS,
        idempotency_key="retry",
        language="en",
    )
    assert (again.pk, created) == (first.pk, False)
