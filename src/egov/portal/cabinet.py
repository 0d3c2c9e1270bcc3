"""The person's cabinet: applications and their timeline, drafts, answering a request for
information, withdrawing, rating, the inbox and API tokens. Only ever the person's own."""

from __future__ import annotations

import json
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from egov.audit.selectors import entry_of
from egov.audit.services import LedgerError, entry_proof
from egov.cases import registry_data, services
from egov.cases import selectors as cases
from egov.cases.answers import form_fields
from egov.cases.models import Application, ApplicationEvent
from egov.cases.workflow import state_label, workflow_of
from egov.core.errors import ApplicationError
from egov.core.files import download_response
from egov.core.numbers import NumberError, parse_integer
from egov.documents import selectors as documents
from egov.documents.views import document_response
from egov.exchange.client import registry_present
from egov.identity import selectors as identity
from egov.identity import services as identity_services
from egov.identity.api_auth import api_token_issue, api_token_revoke, api_tokens_of
from egov.identity.models import LevelOfAssurance, User
from egov.notifications import selectors as inbox_selectors
from egov.notifications.services import message_mark_read
from egov.portal.formview import answers_summary, language


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


class StepUpNeeded(Exception):
    def __init__(self, response: HttpResponse) -> None:
        self.response = response


def _application(request: HttpRequest, number: str) -> Application:
    """The person's own application, opened only at the level of assurance its service
    needs: what was submitted after a second factor is not shown after a password alone."""
    application = cases.application_of(actor=_user(request), number=number)
    if application is None:
        raise Http404
    if not identity.session_meets(request=request, required=application.service.required_assurance):
        next_url = reverse("portal:application", args=[application.number])
        raise StepUpNeeded(
            redirect(f"{reverse('identity:step_up')}?{urlencode({'next': next_url})}")
        )
    return application


def _stepping_up(view: Any) -> Any:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except StepUpNeeded as needed:
            return needed.response

    return wrapper


@login_required
@never_cache
@require_safe
def application_index(request: HttpRequest) -> HttpResponse:
    page = Paginator(cases.applications_of(actor=_user(request)), 25).get_page(
        request.GET.get("page")
    )
    rows = [
        {
            "application": application,
            "state": state_label(workflow_of(application), application.state),
            "deadline_status": cases.deadline_status(application),
        }
        for application in page
    ]
    context = {"rows": rows, "page": page, "drafts": cases.drafts_of(actor=_user(request)).count()}
    return render(request, "portal/cabinet/applications.html", context)


def _timeline(application: Application) -> list[dict[str, Any]]:
    workflow = workflow_of(application)
    lang = language()
    out = []
    for event in application.events.select_related("actor").order_by("-sequence"):
        entry: dict[str, Any] = {"event": event, "title": event.get_kind_display(), "comment": ""}
        if event.kind == ApplicationEvent.Kind.TRANSITION:
            entry["title"] = state_label(workflow, event.to_state, lang)
            entry["comment"] = cases.comment_for_applicant(event, workflow)
        elif event.kind == ApplicationEvent.Kind.SUBMITTED:
            entry["title"] = _("Application submitted")
        elif event.kind in (ApplicationEvent.Kind.CLAIMED, ApplicationEvent.Kind.ASSIGNED):
            entry["title"] = _("An official has taken up the application")
        out.append(entry)
    return out


def _detail_context(request: HttpRequest, application: Application, **extra: Any) -> dict[str, Any]:
    workflow = workflow_of(application)
    definition = application.version.definition
    user = _user(request)
    can_withdraw = any(
        "applicant" in t.actors and workflow.states[t.target].outcome == "withdrawn"
        for t in workflow.leaving(application.state)
    )
    open_request = application.information_requests.filter(answered_at__isnull=True).first()
    attachments = list(application.attachments.all())
    return {
        "application": application,
        "state": state_label(workflow, application.state),
        "deadline_status": cases.deadline_status(application),
        "summary": answers_summary(
            definition, application.data, registry_data.prefill_source_labels(application.prefilled)
        ),
        "documents": [a for a in attachments if a.information_request_id is None],
        "requests": [
            {"request": r, "files": [a for a in attachments if a.information_request_id == r.pk]}
            for r in application.information_requests.all()
        ],
        "open_request": open_request,
        "timeline": _timeline(application),
        "can_withdraw": can_withdraw,
        "can_rate": application.outcome in ("approved", "refused")
        and not hasattr(application, "rating"),
        "rating": getattr(application, "rating", None),
        "fields": form_fields(definition),
        "issued_documents": documents.documents_of_application(actor=user, application=application),
        "user": user,
        **extra,
    }


@login_required
@_stepping_up
@never_cache
@require_safe
def application_detail(request: HttpRequest, number: str) -> HttpResponse:
    application = _application(request, number)
    return render(request, "portal/cabinet/application.html", _detail_context(request, application))


@login_required
@_stepping_up
@require_POST
def application_answer(request: HttpRequest, number: str) -> HttpResponse:
    application = _application(request, number)
    try:
        services.information_answer(
            actor=_user(request),
            application_id=application.pk,
            answer=request.POST.get("answer", ""),
            uploads=request.FILES.getlist("files"),
        )
    except ApplicationError as error:
        errors = getattr(error, "errors", None) or {"files": str(error.message)}
        context = _detail_context(
            request, application, answer_errors=errors, answer_text=request.POST.get("answer", "")
        )
        return render(request, "portal/cabinet/application.html", context, status=400)
    messages.success(request, _("Your answer has been sent to the agency."))
    return redirect("portal:application", number=number)


@login_required
@_stepping_up
@never_cache
@require_http_methods(["GET", "POST"])
def application_withdraw(request: HttpRequest, number: str) -> HttpResponse:
    application = _application(request, number)
    if request.method == "POST":
        try:
            services.application_withdraw(
                actor=_user(request),
                application_id=application.pk,
                comment=request.POST.get("reason", "")[:2000],
            )
        except ApplicationError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("The application has been withdrawn."))
        return redirect("portal:application", number=number)
    return render(request, "portal/cabinet/withdraw.html", {"application": application})


@login_required
@_stepping_up
@require_POST
def application_rate(request: HttpRequest, number: str) -> HttpResponse:
    application = _application(request, number)
    try:
        score = parse_integer(str(request.POST.get("score", "")).strip(), minimum=0, maximum=9)
    except NumberError:
        score = 0
    try:
        services.application_rate(
            actor=_user(request),
            application_id=application.pk,
            score=score,
            comment=request.POST.get("comment", ""),
        )
    except ApplicationError as error:
        errors = getattr(error, "errors", None) or {"score": str(error.message)}
        context = _detail_context(request, application, rate_errors=errors)
        return render(request, "portal/cabinet/application.html", context, status=400)
    messages.success(request, _("Thank you for rating the service."))
    return redirect("portal:application", number=number)


@login_required
@_stepping_up
@require_safe
def attachment_download(request: HttpRequest, number: str, attachment_id: Any) -> FileResponse:
    application = _application(request, number)
    attachment = cases.attachment_of(application=application, attachment_id=attachment_id)
    if attachment is None:
        raise Http404
    return download_response(
        attachment.file, content_type=attachment.content_type, name=attachment.original_name
    )


@login_required
@_stepping_up
@require_safe
def document_download(request: HttpRequest, number: str, document_id: Any) -> FileResponse:
    application = _application(request, number)
    document = documents.document_of(
        actor=_user(request), application=application, document_id=document_id
    )
    if document is None:
        raise Http404
    return document_response(document)


@login_required
@never_cache
@require_safe
def draft_index(request: HttpRequest) -> HttpResponse:
    drafts = cases.drafts_of(actor=_user(request))
    return render(request, "portal/cabinet/drafts.html", {"drafts": drafts})


@login_required
@never_cache
@require_safe
def inbox(request: HttpRequest) -> HttpResponse:
    page = Paginator(inbox_selectors.inbox(actor=_user(request)), 25).get_page(
        request.GET.get("page")
    )
    return render(request, "portal/cabinet/inbox.html", {"page": page})


@login_required
@never_cache
@require_safe
def message_detail(request: HttpRequest, message_id: Any) -> HttpResponse:
    message = inbox_selectors.message_get(actor=_user(request), message_id=str(message_id))
    if message is None:
        raise Http404
    message_mark_read(actor=_user(request), message=message)
    return render(request, "portal/cabinet/message.html", {"message": message})


def identity_proven(request: HttpRequest, user: User) -> bool:
    """Whether the account's identification number may stand for the person signed in: a
    number typed at registration proves nothing. It does once the account holder proved it
    with their e-ID (a step-up from a password login: the same person holds the password and
    the e-ID) or the operator made the account; or in a session the e-ID itself opened (its
    certificate carries the number). An e-ID login alone proves nothing for the password:
    whoever registered the number might not be its owner."""
    if user.personal_number_proven_at is not None:
        return True
    return identity.session_meets(request=request, required=LevelOfAssurance.HIGH)


@login_required
@never_cache
@require_safe
def proof_download(request: HttpRequest, entry_id: int) -> HttpResponse:
    """The proof of a ledger entry about the person: its inclusion proof in a signed tree
    head (as ``egov audit proof`` prints it), to check with ``egov audit verify-proof`` or
    any RFC 9162 tool. Anyone else's, or before the number is proven, is not found."""
    user = _user(request)
    entry = entry_of(actor=user, entry_id=entry_id, identity_proven=identity_proven(request, user))
    if entry is None:
        raise Http404
    try:
        proof = entry_proof(entry)
    except LedgerError:
        return render(request, "audit/proof_unavailable.html", status=503)
    response = HttpResponse(
        json.dumps(proof, indent=2), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="ledger-proof-{entry.pk}.json"'
    return response


@login_required
@never_cache
@require_safe
def data_access(request: HttpRequest) -> HttpResponse:
    """Who used my data: the audit ledger's record of every access to the person's data,
    each with a link to its proof. The personal number is the account's own; nothing in the
    request can choose another."""
    user = _user(request)
    proven = identity_proven(request, user)
    accesses, missing = (
        registry_data.data_accesses_of(actor=user, identity_proven=True) if proven else ([], [])
    )
    page = Paginator(accesses, 50).get_page(request.GET.get("page"))
    step_up = (
        f"{reverse('identity:step_up')}?"
        f"{urlencode({'level': LevelOfAssurance.HIGH.value, 'next': request.path})}"
    )
    context = {
        "page": page,
        "missing": missing,
        "has_number": bool(user.personal_number),
        "proven": proven,
        "step_up_url": step_up,
        "legal_entities_register": registry_present("legal_entities"),
    }
    return render(request, "portal/cabinet/data_access.html", context)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    """Personal API tokens. A token gets this login's level of assurance, so a token made
    after a password-only login cannot use services that need a second factor."""
    user = _user(request)
    new_token = None
    error = ""
    if request.method == "POST":
        if "revoke" in request.POST:
            api_token_revoke(actor=user, token_id=request.POST.get("revoke", ""))
            messages.success(request, _("The token has been revoked."))
            return redirect("portal:api_tokens")
        name = request.POST.get("name", "").strip()
        if not name or len(name) > 100:
            error = _("Give the token a name of up to 100 characters.")
        else:
            assurance = identity.session_assurance(request=request) or LevelOfAssurance.LOW
            new_token = api_token_issue(user=user, name=name, assurance=assurance)
    context = {"tokens": api_tokens_of(actor=user), "new_token": new_token, "error": error}
    return render(request, "portal/cabinet/api_tokens.html", context, status=400 if error else 200)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    """Language of messages and the channels: email, text messages."""
    user = _user(request)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {
        "language": user.language,
        "notify_by_email": user.notify_by_email,
        "notify_by_sms": user.notify_by_sms,
        "phone": user.phone,
    }
    if request.method == "POST":
        values = {
            "language": request.POST.get("language", ""),
            "notify_by_email": request.POST.get("notify_by_email") == "on",
            "notify_by_sms": request.POST.get("notify_by_sms") == "on",
            "phone": request.POST.get("phone", "").strip()[:20],
        }
        try:
            identity_services.user_preferences_update(user=user, **values)
        except identity_services.PreferencesInvalid as invalid:
            errors = invalid.errors
        else:
            messages.success(request, _("Your choices have been saved."))
            return redirect("portal:account")
    context = {"values": values, "errors": errors, "languages": settings.LANGUAGES}
    return render(
        request, "portal/cabinet/preferences.html", context, status=400 if errors else 200
    )
