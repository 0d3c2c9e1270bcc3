"""The workflow action fetch_registry_data: the check is recorded pending with the transition,
fetched by the worker through the exchange, and written whole or not at all."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from egov.cases import registry_data, services
from egov.cases.models import RegistryCheck
from egov.cases.workflow import TransitionNotAllowed
from egov.catalog.models import ServiceVersion
from egov.core.worker import tasks_run_pending
from tests.factories import (
    CRIMINAL_RECORD_ANSWERS,
    OfficialFactory,
    UserFactory,
    published,
    submitted,
)
from tests.registrydata.stub import PERSON_SERVICE, person

pytestmark = pytest.mark.django_db

CRIMINAL_RECORD = "MVD-NO-CRIMINAL-RECORD"


def _submit(citizen):  # type: ignore[no-untyped-def]
    return submitted(CRIMINAL_RECORD, citizen, CRIMINAL_RECORD_ANSWERS)


def test_automatic_step_checks_the_applicant_is_alive(exchange):
    citizen = UserFactory()
    exchange.answer(PERSON_SERVICE, citizen.personal_number, person(citizen.personal_number))
    application = _submit(citizen)
    assert application.state == "in_review"
    check = RegistryCheck.objects.get(application=application)
    assert check.transition == "accept"
    assert check.source == "population.person"
    assert check.check_kind == "alive"
    assert check.status == "passed"
    assert check.detail == ""
    assert check.attempts == 1
    assert check.requested_by is None
    assert check.facts["status"] == "alive"
    assert check.facts["birth_date"] == "1990-04-12"
    assert "address" not in check.facts
    (call,) = exchange.calls(PERSON_SERVICE)
    assert check.message_id == call.headers["X-Road-Id"]
    assert call.headers["X-Road-Client"] == "BY/GOV/MVD/backoffice"
    assert call.headers["X-Road-UserId"] == "BY-STAFF-SYSTEM"
    assert call.headers["X-Egov-Purpose"] == "check"
    assert call.headers["X-Road-Issue"] == application.number
    assert registry_data.registry_checks_passed(application) is True


def test_a_deceased_applicant_fails_the_check(exchange):
    citizen = UserFactory()
    exchange.answer(
        PERSON_SERVICE,
        citizen.personal_number,
        person(citizen.personal_number, status="deceased", death_date="2026-01-02"),
    )
    application = _submit(citizen)
    check = RegistryCheck.objects.get(application=application)
    assert (check.status, check.detail) == ("failed", "deceased")
    assert check.facts["death_date"] == "2026-01-02"
    assert registry_data.registry_checks_passed(application) is False


def test_no_record_in_the_register_fails_the_check(exchange):
    application = _submit(UserFactory())
    check = RegistryCheck.objects.get(application=application)
    assert (check.status, check.detail, check.facts, check.message_id) == (
        "failed",
        "not_found",
        {},
        "",
    )


def test_unreachable_register_leaves_the_check_pending_and_retries_later(exchange):
    citizen = UserFactory()
    exchange.down()
    application = _submit(citizen)
    assert application.state == "in_review"  # the case itself moves on
    check = RegistryCheck.objects.get(application=application)
    assert check.status == "pending"
    assert check.attempts == 1
    assert check.facts == {}
    assert check.message_id == ""
    assert check.checked_at is None
    assert check.detail == "unreachable"
    assert check.next_attempt_at > timezone.now()
    queued = DBTaskResult.objects.filter(
        task_path="egov.cases.tasks.registry_check_run", status="READY"
    ).get()
    assert queued.args_kwargs["args"] == [check.pk]
    assert queued.run_after > timezone.now()
    assert tasks_run_pending() == 0  # not before its time
    # The register is back: the retry completes the check.
    exchange.up()
    exchange.answer(PERSON_SERVICE, citizen.personal_number, person(citizen.personal_number))
    assert registry_data.registry_check_run(check_id=check.pk) == "passed"
    check.refresh_from_db()
    assert (check.status, check.attempts, check.next_attempt_at) == ("passed", 2, None)
    # Idempotent: a check already done is not fetched again.
    assert registry_data.registry_check_run(check_id=check.pk) == "passed"
    assert len(exchange.calls(PERSON_SERVICE)) == 1


def test_x_road_error_counts_as_unreachable(exchange):
    exchange.mode = "xroad_error"
    application = _submit(UserFactory())
    check = RegistryCheck.objects.get(application=application)
    assert (check.status, check.detail) == ("pending", "Server.ServerProxy.ServiceFailed")


def test_refusal_of_the_exchange_fails_the_check_without_retrying(exchange):
    """No access right (or an unknown client or service) will not change by asking again."""
    exchange.mode = "xroad_error"
    exchange.xroad_error = "Server.ServerProxy.AccessDenied"
    application = _submit(UserFactory())
    check = RegistryCheck.objects.get(application=application)
    queued = DBTaskResult.objects.filter(
        task_path="egov.cases.tasks.registry_check_run", status="READY"
    )
    assert (check.status, check.detail, check.attempts) == (
        "failed",
        "Server.ServerProxy.AccessDenied",
        1,
    )
    assert check.next_attempt_at is None
    assert not queued.exists()


def test_check_unanswered_for_too_long_fails_instead_of_waiting_forever(exchange):
    exchange.down()
    application = _submit(UserFactory())
    check = RegistryCheck.objects.get(application=application)
    RegistryCheck.objects.filter(pk=check.pk).update(attempts=registry_data.MAX_CHECK_ATTEMPTS - 1)

    assert registry_data.registry_check_run(check_id=check.pk) == "failed"
    check.refresh_from_db()
    assert (check.status, check.detail, check.attempts) == (
        "failed",
        "unreachable",
        registry_data.MAX_CHECK_ATTEMPTS,
    )


def test_overdue_pending_checks_are_queued_again(exchange_down):
    application = _submit(UserFactory())
    check = RegistryCheck.objects.get(application=application)
    RegistryCheck.objects.filter(pk=check.pk).update(
        next_attempt_at=timezone.now() - timezone.timedelta(hours=1)
    )
    assert registry_data.registry_checks_requeue_overdue() == 1


def test_a_check_an_official_asks_for_carries_their_user_id(exchange):
    citizen = UserFactory()
    exchange.answer(PERSON_SERVICE, citizen.personal_number, person(citizen.personal_number))
    application = submitted(CRIMINAL_RECORD, citizen, CRIMINAL_RECORD_ANSWERS, advance=False)
    clerk = OfficialFactory()
    with transaction.atomic():
        check = registry_data.fetch_registry_data(
            application=application,
            action={"type": "fetch_registry_data", "source": "population.person", "check": "alive"},
            actor=clerk,
        )
    assert RegistryCheck.objects.get(pk=check.pk).status in ("pending", "passed")
    tasks_run_pending()
    check.refresh_from_db()
    assert check.status == "passed"
    assert check.requested_by == clerk
    # The system's own check (the accept step queued with the submission) and the clerk's.
    user_ids = sorted(call.headers["X-Road-UserId"] for call in exchange.calls(PERSON_SERVICE))
    assert user_ids == sorted(["BY-STAFF-SYSTEM", f"BY-STAFF-{clerk.pk}"])


def test_guard_registry_checks_passed_blocks_a_decision_until_the_checks_pass(exchange):
    version = published(CRIMINAL_RECORD)
    definition = version.definition
    for transition in definition["workflow"]["transitions"]:
        if transition["code"] == "approve":
            transition["guards"] = ["assigned_to_actor", "registry_checks_passed"]
    ServiceVersion.objects.filter(pk=version.pk).update(
        definition=definition, updated_at=timezone.now()
    )
    citizen = UserFactory()
    exchange.answer(
        PERSON_SERVICE, citizen.personal_number, person(citizen.personal_number, status="deceased")
    )
    application = _submit(citizen)
    clerk = OfficialFactory()
    services.case_claim(actor=clerk, application_id=application.pk)
    with pytest.raises(TransitionNotAllowed) as refused:
        services.transition_fire(
            application_id=application.pk, transition_code="approve", actor=clerk
        )
    assert str(refused.value.message) == (
        "The registry checks have not all passed: see their results on the case."
    )
    application.refresh_from_db()
    assert application.state == "in_review"
    RegistryCheck.objects.filter(application=application).update(status="passed")
    services.transition_fire(application_id=application.pk, transition_code="approve", actor=clerk)
    application.refresh_from_db()
    assert application.state == "approved"
