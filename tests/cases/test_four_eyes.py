"""Four eyes is a rule of the workflow engine: a four-eyes service stops the official who
prepared a decision from taking it, whether or not its definition lists ``not_preparer``."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.utils import timezone

from egov.cases import services
from egov.cases.models import Application
from egov.cases.workflow import TransitionNotAllowed, transitions_available
from egov.catalog.definitions import definition_validate
from egov.catalog.models import Agency, ServiceVersion
from egov.identity.models import User
from tests.factories import COMPLAINT_ANSWERS, OfficialFactory, UserFactory, published, submitted

pytestmark = pytest.mark.django_db

COMPLAINT = "MGI-ADM-COMPLAINT"
PREPARED = {"prepare_approval": "approval_prepared", "prepare_refusal": "refusal_prepared"}
REFUSED = "The decision must be taken by someone other than the one who prepared it."


AMEND = {
    "code": "amend_preparation",
    "from": ["approval_prepared"],
    "to": "approval_prepared",
    "actor": ["clerk"],
    "label": {"be": "Удакладніць праект", "ru": "Уточнить проект", "en": "Amend the draft"},
}


def _without_not_preparer(definition: dict[str, Any]) -> dict[str, Any]:
    """The definition with no ``not_preparer`` anywhere, and a clerk's step that amends a
    prepared approval (a second clerk may touch the preparation)."""
    changed = copy.deepcopy(definition)
    for transition in changed["workflow"]["transitions"]:
        transition["guards"] = [g for g in transition.get("guards", []) if g != "not_preparer"]
    changed["workflow"]["transitions"].append(AMEND)
    return changed


@pytest.fixture
def version() -> ServiceVersion:
    """The complaint service (four eyes) with a definition that lists no ``not_preparer``."""
    version = published(COMPLAINT)
    definition = _without_not_preparer(version.definition)
    assert definition["four_eyes"] is True
    assert not any(
        "not_preparer" in t.get("guards", []) for t in definition["workflow"]["transitions"]
    )
    definition_validate(definition)  # a valid four-eyes definition as it stands
    ServiceVersion.objects.filter(pk=version.pk).update(
        definition=definition, updated_at=timezone.now()
    )
    version.refresh_from_db()
    return version


@pytest.fixture
def officials() -> dict[str, User]:
    agency = Agency.objects.get(code="MGI")
    return {
        "preparer": OfficialFactory(agency=agency, official_role="clerk"),
        "second_clerk": OfficialFactory(agency=agency, official_role="clerk"),
        "decider": OfficialFactory(agency=agency, official_role="decision_maker"),
    }


def _prepared(officials: dict[str, User], code: str = "prepare_approval") -> Application:
    application = submitted(COMPLAINT, UserFactory(), COMPLAINT_ANSWERS)
    services.case_claim(actor=officials["preparer"], application_id=application.pk)
    services.transition_fire(
        application_id=application.pk,
        transition_code=code,
        actor=officials["preparer"],
        comment="Prepared.",
    )
    application.refresh_from_db()
    return application


def _promote(official: User) -> User:
    """The clerk who prepared the case becomes a decision maker of the same agency."""
    User.objects.filter(pk=official.pk).update(official_role="decision_maker")
    return User.objects.get(pk=official.pk)


@pytest.mark.usefixtures("version")
@pytest.mark.parametrize(
    ("prepare", "decide", "comment"),
    [("prepare_approval", "approve", ""), ("prepare_refusal", "refuse", "Out of time.")],
)
def test_the_preparer_cannot_take_the_decision_without_the_guard_in_the_definition(
    officials: dict[str, User], prepare: str, decide: str, comment: str
) -> None:
    application = _prepared(officials, prepare)
    preparer = _promote(officials["preparer"])
    events_before = application.events.count()

    with pytest.raises(TransitionNotAllowed, match=REFUSED):
        services.transition_fire(
            application_id=application.pk,
            transition_code=decide,
            actor=preparer,
            comment=comment,
        )

    application.refresh_from_db()
    assert (application.state, application.outcome) == (PREPARED[prepare], "")
    assert application.events.count() == events_before
    offered = {
        check.transition.code: check
        for check in transitions_available(application=application, actor=preparer)
    }
    assert (offered[decide].allowed, offered[decide].reason) == (False, REFUSED)


@pytest.mark.usefixtures("version")
def test_another_decision_maker_takes_the_decision(officials: dict[str, User]) -> None:
    application = _prepared(officials)

    services.transition_fire(
        application_id=application.pk, transition_code="approve", actor=officials["decider"]
    )

    application.refresh_from_db()
    assert (application.state, application.outcome) == ("approved", "approved")


@pytest.mark.usefixtures("version")
def test_the_preparer_cannot_decide_after_another_clerk_amended_the_preparation(
    officials: dict[str, User],
) -> None:
    application = _prepared(officials)
    Application.objects.filter(pk=application.pk).update(assignee=officials["second_clerk"])
    services.transition_fire(
        application_id=application.pk,
        transition_code="amend_preparation",
        actor=officials["second_clerk"],
    )
    preparer = _promote(officials["preparer"])
    Application.objects.filter(pk=application.pk).update(assignee=preparer)
    events_before = application.events.count()

    with pytest.raises(TransitionNotAllowed, match=REFUSED):
        services.transition_fire(
            application_id=application.pk, transition_code="approve", actor=preparer
        )

    application.refresh_from_db()
    assert (application.state, application.outcome) == ("approval_prepared", "")
    assert application.events.count() == events_before
