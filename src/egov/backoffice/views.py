"""The agencies' back office. Every page is for officials only, and only for their agency.

Another agency's case does not exist here: every case URL answers 404 for it, so an official
cannot even learn which numbers are in use elsewhere. Writes go through ``egov.cases.services``;
a refused write re-renders the case page with status 400 and the service's message.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from egov.backoffice.forms import ActionForm, AssignForm, QueueFilterForm
from egov.cases import registry_data, services
from egov.cases import selectors as cases
from egov.cases.answers import form_fields
from egov.cases.models import Application, Attachment, StateKind
from egov.cases.signatures import signature_check
from egov.cases.workflow import (
    Workflow,
    state_label,
    transitions_available,
    workflow_of,
    workflow_of_version,
)
from egov.catalog import selectors as catalog
from egov.catalog.definitions import text
from egov.catalog.models import Service, ServiceVersion, VersionStatus
from egov.catalog.services import CATALOGUE_PAGES
from egov.core import pagecache
from egov.core.errors import ApplicationError
from egov.core.files import download_response
from egov.documents import selectors as documents
from egov.documents.views import document_response
from egov.identity import selectors as identity
from egov.identity.models import LevelOfAssurance, OfficialRole, User, UserKind

CASES_PER_PAGE = 50
#: Roles that work on cases (an agency administrator only assigns them).
WORKING_ROLES = (OfficialRole.CLERK, OfficialRole.DECISION_MAKER)
ASSIGNING_ROLES = (OfficialRole.DECISION_MAKER, OfficialRole.AGENCY_ADMIN)


def official_required(
    view: Callable[..., HttpResponseBase],
) -> Callable[..., HttpResponseBase]:
    """Logged in, an official, and verified with the second factor in this session."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('identity:login')}?{query}")
        if request.user.kind != UserKind.OFFICIAL or request.user.agency_id is None:
            raise PermissionDenied
        if not identity.session_meets(request=request, required=LevelOfAssurance.SUBSTANTIAL):
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('identity:step_up')}?{query}")
        return view(request, *args, **kwargs)

    return wrapper


def _official(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User) and user.agency_id is not None
    return user


def _language() -> str:
    return translation.get_language() or settings.LANGUAGE_CODE


def _case_or_404(actor: User, number: str) -> Application:
    application = cases.case_of(actor=actor, number=number)
    if application is None:
        raise Http404
    return application


def _see_case(application: Application) -> HttpResponse:
    """Post/Redirect/Get with 303, so that reloading the page never repeats the action."""
    url = reverse("backoffice:case", kwargs={"number": application.number})
    return HttpResponseRedirect(url, status=303)


# --- the queue ------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    application: Application
    state_label: str
    deadline_status: str


def _queue_states(services_: Iterable[Service], language: str) -> list[tuple[str, str]]:
    """Every state of the agency's workflows, in workflow order, for the state filter. The same
    code may be labelled differently by two services ("approved": "Certificate issued",
    "Permit granted"); the option then shows every label."""
    versions = ServiceVersion.objects.filter(service__in=list(services_)).exclude(
        status=VersionStatus.DRAFT
    )
    labels: dict[str, list[str]] = {}
    for version in versions.only("pk", "updated_at").order_by("service__code", "number"):
        for state in workflow_of_version(version).states.values():
            label = text(state.label, language)
            known = labels.setdefault(state.code, [])
            if label not in known:
                known.append(label)
    return [(code, " / ".join(names)) for code, names in labels.items()]


def _queue_rows(applications: Iterable[Application], language: str) -> list[QueueRow]:
    """State labels and deadline marks without a query per row: the workflow is parsed once
    per version and the related rows come with ``cases_of``'s select_related."""
    today = timezone.localdate()
    workflows: dict[int, Workflow] = {}
    rows = []
    for application in applications:
        workflow = workflows.get(application.version_id)
        if workflow is None:
            workflow = workflows[application.version_id] = workflow_of(application)
        rows.append(
            QueueRow(
                application=application,
                state_label=_state_name(workflow, application.state, language),
                deadline_status=cases.deadline_status(application, today),
            )
        )
    return rows


def _state_name(workflow: Workflow, state: str, language: str) -> str:
    if state in workflow.states:
        return state_label(workflow, state, language)
    return state


def _queue_version(request: HttpRequest) -> str:
    actor = _official(request)
    assert actor.agency_id is not None
    return (
        f"{actor.pk}:{cases.agency_cases_version(agency_id=actor.agency_id)}:"
        f"{pagecache.version(CATALOGUE_PAGES)}"
    )


@official_required
@never_cache
@require_safe
@pagecache.session_page(_queue_version)
def home(request: HttpRequest) -> HttpResponse:
    """The agency's cases, soonest deadline first."""
    actor = _official(request)
    assert actor.agency is not None
    language = _language()
    agency_services = catalog.agency_services(agency=actor.agency)
    form = QueueFilterForm(
        request.GET or None,
        services=agency_services,
        states=_queue_states(agency_services, language),
    )
    filters = form.queue_filter()
    queue = cases.case_queue(actor=actor, filters=filters)
    page = Paginator(queue, CASES_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "agency": actor.agency,
        "form": form,
        "filters": filters,
        "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2),
        "rows": _queue_rows(page.object_list, language),
        "services": agency_services,
    }
    return render(request, "backoffice/home.html", context, status=400 if form.errors else 200)


# --- the case page --------------------------------------------------------------------------


@dataclass
class Problems:
    """What went wrong with a post: messages by the id of the input they are about, so that the
    error summary links to it, and what the person typed, to show it again."""

    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AnswerRow:
    label: str
    lines: list[str]
    source: str = ""


@dataclass(frozen=True)
class AnswerGroup:
    title: str
    rows: list[AnswerRow]


@dataclass(frozen=True)
class ActionView:
    code: str
    label: str
    allowed: bool
    reason: str
    comment_required: bool
    is_refusal: bool
    field_id: str
    error: str
    comment: str


def _answer_lines(widget: str, value: Any, options: Mapping[str, str]) -> list[str]:
    """An answer as a person reads it: option labels instead of codes, dates in the local
    format, yes or no instead of true or false."""
    if value is None or value == "" or value == []:
        return []
    if isinstance(value, bool):
        return [_("Yes") if value else _("No")]
    if widget == "checkboxes" and isinstance(value, list):
        return [options.get(str(item), str(item)) for item in value]
    if widget == "date" and isinstance(value, str):
        try:
            return [formats.date_format(datetime.date.fromisoformat(value), "d.m.Y")]
        except ValueError:
            return [value]
    if options:
        return [options.get(str(value), str(value))]
    if isinstance(value, int | float):
        return [formats.localize(value)]
    return [str(value)]


def _answers(application: Application, language: str) -> list[AnswerGroup]:
    definition = application.version.definition
    sources = registry_data.prefill_source_labels(application.prefilled)
    groups = []
    for step in definition["form"]["steps"]:
        rows = []
        for item in form_fields(definition, step["code"]):
            if item.name not in application.data:
                continue
            lines = _answer_lines(
                item.widget, application.data[item.name], dict(item.options(language))
            )
            rows.append(
                AnswerRow(
                    label=item.label(language), lines=lines, source=sources.get(item.name, "")
                )
            )
        if rows:
            groups.append(AnswerGroup(title=text(step.get("title"), language), rows=rows))
    return groups


def _registry_checks(application: Application) -> list[dict[str, Any]]:
    """What the registers said about the applicant, for the official to see."""
    out = []
    for check in application.registry_checks.select_related("requested_by"):
        facts = [(key, _fact_text(value)) for key, value in (check.facts or {}).items() if value]
        out.append(
            {
                "check": check,
                "facts": facts,
                "title": registry_data.check_title(check),
                "detail": registry_data.check_detail(check),
            }
        )
    return out


def _fact_text(value: Any) -> str:
    if isinstance(value, dict):
        return value.get(translation.get_language() or "be") or value.get("be") or str(value)
    if isinstance(value, list):
        return "; ".join(_fact_text(item) for item in value)
    return str(value)


def _files(application: Application, language: str) -> list[tuple[Attachment, str]]:
    """The application's own files (not answers' files), each with the document it is for."""
    rules = application.version.definition.get("attachments", [])
    names = {rule["code"]: text(rule.get("label"), language) for rule in rules}
    files = application.attachments.filter(information_request__isnull=True)
    return [(attachment, names.get(attachment.requirement, "")) for attachment in files]


def _actions(
    application: Application, actor: User, workflow: Workflow, language: str, problems: Problems
) -> list[ActionView]:
    views = []
    for check in transitions_available(application=application, actor=actor):
        transition = check.transition
        field_id = f"comment-{transition.code}"
        target = workflow.states[transition.target]
        views.append(
            ActionView(
                code=transition.code,
                label=text(transition.label, language),
                allowed=check.allowed,
                reason=check.reason,
                comment_required="comment_required" in transition.guards,
                is_refusal=target.outcome == "refused",
                field_id=field_id,
                error=problems.errors.get(field_id, ""),
                comment=problems.values.get(field_id, ""),
            )
        )
    return views


def _case_page(
    request: HttpRequest,
    actor: User,
    application: Application,
    *,
    problems: Problems | None = None,
    status: int = 200,
) -> HttpResponse:
    """Everything an official needs to work on the case, on one page."""
    problems = problems or Problems()
    language = _language()
    workflow = workflow_of(application)
    role = str(actor.official_role)
    is_open = application.state_kind != StateKind.FINAL
    requests = list(
        application.information_requests.select_related("requested_by").prefetch_related(
            "attachments"
        )
    )
    events = list(application.events.select_related("actor"))
    history = [
        {
            "event": event,
            "from_label": _state_name(workflow, event.from_state, language)
            if event.from_state
            else "",
            "to_label": _state_name(workflow, event.to_state, language) if event.to_state else "",
        }
        for event in events
    ]
    organisation = ""
    if application.on_behalf_unp:
        representation = application.applicant.representations.filter(
            unp=application.on_behalf_unp
        ).first()
        organisation = representation.organisation_name if representation else ""
    actions = _actions(application, actor, workflow, language, problems)
    can_claim = is_open and application.assignee_id is None and role in WORKING_ROLES
    can_assign = is_open and role in ASSIGNING_ROLES
    targets = {"note"} | {action.field_id for action in actions if action.allowed}
    targets |= {"claim"} if can_claim else set()
    targets |= {"assignee"} if can_assign else set()
    context = {
        "application": application,
        "service_name": application.service.name,
        "state_label": _state_name(workflow, application.state, language),
        "deadline_status": cases.deadline_status(application),
        "organisation": organisation,
        "answers": _answers(application, language),
        "registry_checks": _registry_checks(application),
        # Checked again at every view: the content, the CMS and the certificate's status.
        "signature_check": signature_check(application),
        "files": _files(application, language),
        "issued_documents": documents.documents_of_application(
            actor=actor, application=application
        ),
        "requests": requests,
        "history": history,
        "notes": list(application.internal_notes.select_related("author")),
        "actions": actions,
        "can_claim": can_claim,
        "can_assign": can_assign,
        "officials": list(cases.agency_officials(actor=actor)) if can_assign else [],
        "errors": problems.errors,
        "values": problems.values,
        "error_summary": [
            (field_id if field_id in targets else _fallback_anchor(field_id), message)
            for field_id, message in problems.errors.items()
        ],
    }
    return render(request, "backoffice/case.html", context, status=status)


def _fallback_anchor(field_id: str) -> str:
    """Where the error summary links when the input the error is about is not on the page
    (the claim button of a case someone else has just claimed, an action no longer offered)."""
    return "actions" if field_id.startswith("comment-") else "assignment"


def _refused(
    request: HttpRequest,
    actor: User,
    application: Application,
    error: ApplicationError,
    *,
    field_id: str,
    values: Mapping[str, str] | None = None,
    field_names: Mapping[str, str] | None = None,
) -> HttpResponse:
    """Show the service's message at the input it is about; nothing was written."""
    errors: dict[str, str] = {}
    by_field = getattr(error, "errors", None)
    if isinstance(by_field, dict) and by_field:
        for name, message in by_field.items():
            errors[(field_names or {}).get(name, field_id)] = str(message)
    else:
        errors[field_id] = str(error.message)
    fresh = _case_or_404(actor, application.number)
    problems = Problems(errors=errors, values=dict(values or {}))
    return _case_page(request, actor, fresh, problems=problems, status=400)


def _form_problems(form: Any, ids: Mapping[str, str], values: Mapping[str, str]) -> Problems:
    errors = {ids[name]: str(messages_[0]) for name, messages_ in form.errors.items()}
    return Problems(errors=errors, values=dict(values))


@official_required
@never_cache
@require_safe
def case(request: HttpRequest, number: str) -> HttpResponse:
    actor = _official(request)
    return _case_page(request, actor, _case_or_404(actor, number))


@official_required
@never_cache
@require_POST
def case_claim(request: HttpRequest, number: str) -> HttpResponse:
    actor = _official(request)
    application = _case_or_404(actor, number)
    try:
        services.case_claim(actor=actor, application_id=application.pk)
    except ApplicationError as error:
        return _refused(request, actor, application, error, field_id="claim")
    messages.success(request, _("You have taken the case into work."))
    return _see_case(application)


@official_required
@never_cache
@require_POST
def case_assign(request: HttpRequest, number: str) -> HttpResponse:
    actor = _official(request)
    application = _case_or_404(actor, number)
    form = AssignForm(request.POST)
    if not form.is_valid():
        problems = _form_problems(form, {"assignee": "assignee"}, {})
        return _case_page(request, actor, application, problems=problems, status=400)
    try:
        assigned = services.case_assign(
            actor=actor, application_id=application.pk, assignee_id=form.cleaned_data["assignee"]
        )
    except ApplicationError as error:
        return _refused(
            request,
            actor,
            application,
            error,
            field_id="assignee",
            field_names={"assignee": "assignee"},
        )
    name = assigned.assignee.full_name if assigned.assignee else ""
    messages.success(request, _("The case is assigned to %(name)s.") % {"name": name})
    return _see_case(application)


@official_required
@never_cache
@require_POST
def case_action(request: HttpRequest, number: str) -> HttpResponse:
    actor = _official(request)
    application = _case_or_404(actor, number)
    form = ActionForm(request.POST)
    code = str(request.POST.get("transition", ""))
    field_id = f"comment-{code}"
    typed = {field_id: str(request.POST.get("comment", ""))}
    if not form.is_valid():
        problems = _form_problems(form, {"comment": field_id, "transition": field_id}, typed)
        return _case_page(request, actor, application, problems=problems, status=400)
    try:
        fired = services.transition_fire(
            application_id=application.pk,
            transition_code=form.cleaned_data["transition"],
            actor=actor,
            comment=form.cleaned_data["comment"],
        )
    except ApplicationError as error:
        return _refused(request, actor, application, error, field_id=field_id, values=typed)
    state = _state_name(workflow_of(fired), fired.state, _language())
    messages.success(request, _("Done. The application is now “%(state)s”.") % {"state": state})
    return _see_case(application)


@official_required
@never_cache
@require_POST
def case_note(request: HttpRequest, number: str) -> HttpResponse:
    actor = _official(request)
    application = _case_or_404(actor, number)
    note = str(request.POST.get("note", ""))
    try:
        services.internal_note_add(actor=actor, application_id=application.pk, note=note)
    except ApplicationError as error:
        return _refused(
            request,
            actor,
            application,
            error,
            field_id="note",
            values={"note": note},
            field_names={"note": "note"},
        )
    messages.success(request, _("Your note has been added."))
    return _see_case(application)


# --- files ----------------------------------------------------------------------------------


@official_required
@never_cache
@require_safe
def case_document(request: HttpRequest, number: str, document_id: Any) -> HttpResponseBase:
    actor = _official(request)
    application = _case_or_404(actor, number)
    document = documents.document_of(actor=actor, application=application, document_id=document_id)
    if document is None:
        raise Http404
    return document_response(document)


@official_required
@never_cache
@require_safe
def case_file(request: HttpRequest, number: str, attachment_id: Any) -> HttpResponseBase:
    actor = _official(request)
    application = _case_or_404(actor, number)
    attachment = cases.attachment_of(application=application, attachment_id=attachment_id)
    if attachment is None:
        raise Http404
    return download_response(
        attachment.file, content_type=attachment.content_type, name=attachment.original_name
    )
