"""Reads of applications, always on behalf of someone: a citizen sees only their own
applications, an official only their agency's cases."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet
from django.utils import timezone

from egov.cases.models import (
    ActorRole,
    AgencyCasesVersion,
    Application,
    ApplicationEvent,
    Attachment,
    Draft,
    StateKind,
)
from egov.catalog.definitions import Workflow
from egov.core.workdays import add_working_days
from egov.identity.models import User, UserKind

NEARLY_DUE_WORKING_DAYS = 2


def applications_of(*, actor: User) -> QuerySet[Application]:
    return (
        Application.objects.filter(applicant=actor)
        .select_related("service", "agency", "version")
        .order_by("-submitted_at")
    )


def application_of(*, actor: User, number: str) -> Application | None:
    """The actor's own application, or None: another person's does not exist for them."""
    return applications_of(actor=actor).filter(number=number).first()


def drafts_of(*, actor: User) -> QuerySet[Draft]:
    return Draft.objects.filter(applicant=actor).select_related("version__service")


def draft_of(*, actor: User, draft_id: object) -> Draft | None:
    try:
        uuid.UUID(str(draft_id))
    except ValueError:
        return None
    return drafts_of(actor=actor).filter(pk=str(draft_id)).first()


def cases_of(*, actor: User) -> QuerySet[Application]:
    """Every case of the actor's agency (none for anyone who is not an official)."""
    if actor.kind != UserKind.OFFICIAL or actor.agency_id is None:
        return Application.objects.none()
    return Application.objects.filter(agency_id=actor.agency_id).select_related(
        "service", "applicant", "assignee", "version"
    )


def case_of(*, actor: User, number: str) -> Application | None:
    return cases_of(actor=actor).filter(number=number).first()


@dataclass(frozen=True)
class QueueFilter:
    service: str = ""
    state: str = ""
    due: str = ""  # "overdue", "soon" or ""
    assigned: str = ""  # "me", "unassigned" or ""
    closed: bool = False


def case_queue(
    *, actor: User, filters: QueueFilter, today: date | None = None
) -> QuerySet[Application]:
    """The agency's queue, soonest deadline first; closed cases only when asked for."""
    today = today or timezone.localdate()
    cases = cases_of(actor=actor)
    if filters.closed:
        cases = cases.filter(state_kind=StateKind.FINAL)
    else:
        cases = cases.exclude(state_kind=StateKind.FINAL)
    if filters.service:
        cases = cases.filter(service__code=filters.service)
    if filters.state:
        cases = cases.filter(state=filters.state)
    if filters.due == "overdue":
        cases = cases.filter(deadline__lt=today, state_kind=StateKind.OPEN)
    elif filters.due == "soon":
        cases = cases.filter(
            deadline__gte=today,
            deadline__lte=add_working_days(today, NEARLY_DUE_WORKING_DAYS),
            state_kind=StateKind.OPEN,
        )
    if filters.assigned == "me":
        cases = cases.filter(assignee=actor)
    elif filters.assigned == "unassigned":
        cases = cases.filter(assignee__isnull=True)
    # A queue shows no answers and no definitions: leave the large JSON columns behind
    # (the workflow is parsed once per version and process, see workflow.workflow_of).
    return cases.defer("data", "version__definition").order_by("deadline", "submitted_at")


def deadline_status(application: Application, today: date | None = None) -> str:
    """ "overdue", "soon", "paused", "closed" or "ok" — how a list marks the deadline."""
    today = today or timezone.localdate()
    if application.state_kind == StateKind.FINAL:
        return "closed"
    if application.state_kind == StateKind.WAITING:
        return "paused"
    if application.deadline < today:
        return "overdue"
    if application.deadline <= add_working_days(today, NEARLY_DUE_WORKING_DAYS):
        return "soon"
    return "ok"


def agency_officials(*, actor: User) -> QuerySet[User]:
    if actor.kind != UserKind.OFFICIAL or actor.agency_id is None:
        return User.objects.none()
    return User.objects.filter(
        Q(official_role="clerk") | Q(official_role="decision_maker"),
        kind=UserKind.OFFICIAL,
        agency_id=actor.agency_id,
        is_active=True,
    ).order_by("last_name", "first_name")


def application_by_key(*, actor: User, idempotency_key: str) -> Application | None:
    return applications_of(actor=actor).filter(idempotency_key=idempotency_key).first()


def comment_for_applicant(event: ApplicationEvent, workflow: Workflow) -> str:
    """The applicant reads their own words, the question asked of them and the reasons of a
    decision; what officials wrote to each other on the way stays inside the agency."""
    if event.actor_role == ActorRole.APPLICANT:
        return event.comment
    target = workflow.states.get(event.to_state)
    if target is not None and target.kind in (StateKind.WAITING, StateKind.FINAL):
        return event.comment
    return ""


def agency_cases_version(*, agency_id: int) -> int:
    """Changes after every committed change to one of the agency's cases (see
    ``services._agency_changed``): one primary-key read, the same in every process."""
    row = AgencyCasesVersion.objects.filter(agency_id=agency_id).values_list("version").first()
    return int(row[0]) if row else 0


def attachment_of(*, application: Application, attachment_id: object) -> Attachment | None:
    """A file of this application: its own or one sent with an answer to a request for
    information. Another application's file is not found, whatever its id."""
    try:
        uuid.UUID(str(attachment_id))
    except ValueError:
        return None
    files = Attachment.objects.filter(application=application) | Attachment.objects.filter(
        information_request__application=application
    )
    return files.filter(pk=str(attachment_id)).first()
