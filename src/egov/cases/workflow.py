"""The workflow engine's rules: who may fire which transition of an application, and why not.

The definition (``egov.catalog.definitions``) says what transitions exist; this module decides
whether a given person may fire one now. ``services.transition_fire`` runs it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from egov.cases.models import ActorRole, Application, ApplicationEvent
from egov.cases.registry_data import registry_checks_passed
from egov.cases.signatures import signature_blocks_decision
from egov.catalog.definitions import DECISION_OUTCOMES, SYSTEM, Transition, Workflow
from egov.catalog.models import ServiceVersion
from egov.catalog.selectors import version_definition
from egov.core.errors import ApplicationError
from egov.identity.models import OfficialRole, User, UserKind


class TransitionNotAllowed(ApplicationError):
    code = "transition_not_allowed"
    http_status = 409


_WORKFLOWS: dict[tuple[int, object], Workflow] = {}


def workflow_of(application: Application) -> Workflow:
    """The workflow of the version the application was submitted with."""
    return workflow_of_version(application.version)


def workflow_of_version(version: ServiceVersion) -> Workflow:
    """Published versions never change, so a workflow is parsed once per process; the
    definition column is read only then (it may be deferred)."""
    key = (version.pk, version.updated_at)
    workflow = _WORKFLOWS.get(key)
    if workflow is None:
        workflow = _WORKFLOWS[key] = Workflow(version_definition(version)["workflow"])
    return workflow


def actor_role(*, actor: User | None, application: Application) -> str | None:
    """What the actor is to this application, or None if they have nothing to do with it."""
    if actor is None:
        return ActorRole.SYSTEM
    if actor.pk == application.applicant_id:
        return ActorRole.APPLICANT
    if actor.kind == UserKind.OFFICIAL and actor.agency_id == application.agency_id:
        return str(actor.official_role)
    return None


@dataclass(frozen=True)
class Check:
    transition: Transition
    allowed: bool
    reason: str = ""


def _last_preparer_id(application: Application) -> int | None:
    event = (
        ApplicationEvent.objects.filter(
            application=application, kind=ApplicationEvent.Kind.TRANSITION
        )
        .order_by("-sequence")
        .only("actor_id")
        .first()
    )
    return event.actor_id if event else None


def _decision_preparer_ids(application: Application, workflow: Workflow) -> set[int]:
    """Everyone who prepared the decision at hand: the actors of the transitions that led,
    one after another, into states a decision leaves from (a preparation, and any amendment
    of it), back to the last state that is not one."""
    prepared = {
        source
        for t in workflow.transitions.values()
        if _is_decision(workflow, t)
        for source in t.sources
    }
    preparers: set[int] = set()
    events = (
        ApplicationEvent.objects.filter(
            application=application, kind=ApplicationEvent.Kind.TRANSITION
        )
        .order_by("-sequence")
        .only("actor_id", "to_state")
    )
    for event in events.iterator():
        if event.to_state not in prepared:
            break
        if event.actor_id is not None:
            preparers.add(event.actor_id)
    return preparers


def _is_decision(workflow: Workflow, transition: Transition) -> bool:
    target = workflow.states[transition.target]
    return target.kind == "final" and target.outcome in DECISION_OUTCOMES


def transition_check(
    *,
    application: Application,
    transition: Transition,
    actor: User | None,
    comment: str | None = None,
) -> Check:
    """Whether the actor may fire the transition now. With ``comment=None`` the comment guard
    is not judged (used to list the actions a page offers before anything is typed)."""
    workflow = workflow_of(application)
    role = actor_role(actor=actor, application=application)

    def no(reason: str) -> Check:
        return Check(transition, False, reason)

    if application.state not in transition.sources:
        return no(
            _("This cannot be done while the application is “%(state)s”.")
            % {"state": state_label(workflow, application.state)}
        )
    if role is None or role not in transition.actors:
        return no(_("Your role cannot do this."))
    if role == ActorRole.SYSTEM and SYSTEM not in transition.actors:
        return no(_("Your role cannot do this."))
    guards = set(transition.guards)
    four_eyes = bool(version_definition(application.version).get("four_eyes"))
    if four_eyes and _is_decision(workflow, transition) and role != ActorRole.SYSTEM:
        # The engine's own rule, whatever the definition lists: a decision maker decides,
        # and never one who prepared (or amended) the decision.
        if role != OfficialRole.DECISION_MAKER:
            return no(_("Under the four-eyes rule only a decision maker can decide."))
        if actor is not None and actor.pk in _decision_preparer_ids(application, workflow):
            return no(
                _("The decision must be taken by someone other than the one who prepared it.")
            )
    if "assigned_to_actor" in guards and (actor is None or application.assignee_id != actor.pk):
        return no(_("Take the case into work first: it is not assigned to you."))
    if (
        "not_preparer" in guards
        and actor is not None
        and _last_preparer_id(application) == actor.pk
    ):
        return no(_("The decision must be taken by someone other than the one who prepared it."))
    if (
        "no_open_information_request" in guards
        and application.information_requests.filter(answered_at__isnull=True).exists()
    ):
        return no(_("The request for information has not been answered yet."))
    if "registry_checks_passed" in guards and not registry_checks_passed(application):
        return no(_("The registry checks have not all passed: see their results on the case."))
    if "comment_required" in guards and comment is not None and not comment.strip():
        return no(_("Give the reasons or the question in the comment."))
    if _is_decision(workflow, transition):
        broken = signature_blocks_decision(application)
        if broken:
            return no(broken)
    return Check(transition, True)


def transitions_available(*, application: Application, actor: User | None) -> list[Check]:
    """Every transition leaving the current state that the actor's role could fire, with
    whether the other guards let it through now."""
    workflow = workflow_of(application)
    role = actor_role(actor=actor, application=application)
    return [
        transition_check(application=application, transition=transition, actor=actor)
        for transition in workflow.leaving(application.state)
        if role in transition.actors and not transition.is_automatic
    ]


def state_label(workflow: Workflow, state: str, language: str | None = None) -> str:
    from django.utils import translation

    from egov.catalog.definitions import text

    return text(workflow.states[state].label, language or translation.get_language() or "be")
