"""Applying for a service: a draft filled page by page, documents, check your answers, submit.

Every page checks that the draft is the person's own and that this login still meets the
service's level of assurance. Answers are validated on the server against the service
version's JSON Schema; a page with errors is shown again with the answers as typed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from egov.cases import registry_data, services
from egov.cases import selectors as cases
from egov.cases.answers import answers_parse, form_fields
from egov.cases.attachments import TYPE_NAMES
from egov.cases.models import Draft
from egov.cases.signatures import (
    SignatureRefused,
    draft_signed_content,
    signature_description,
    signature_required,
    signature_submission_parse,
)
from egov.catalog import selectors as catalog
from egov.catalog.definitions import text
from egov.catalog.models import Service
from egov.core.errors import ApplicationError
from egov.identity import selectors as identity
from egov.identity.models import User
from egov.portal.formview import (
    answers_summary,
    field_views,
    language,
    step_codes,
    step_hint,
    step_title,
)


def _gate(request: HttpRequest, service: Service) -> HttpResponse | None:
    """Send the person to step up if this login is weaker than the service requires."""
    if not identity.session_meets(request=request, required=service.required_assurance):
        query = urlencode({"next": reverse("portal:service_start", args=[service.code])})
        return redirect(f"{reverse('identity:step_up')}?{query}")
    return None


def _draft(request: HttpRequest, draft_id: Any) -> Draft:
    user = request.user
    assert isinstance(user, User)
    draft = cases.draft_of(actor=user, draft_id=draft_id)
    if draft is None:
        raise Http404
    return draft


def _next_url(draft: Draft, step: str | None) -> str:
    """After a page: the next page, then documents (if any are asked for), then the check."""
    definition = draft.version.definition
    codes = step_codes(definition)
    if step is not None and step in codes and codes.index(step) + 1 < len(codes):
        return reverse("portal:draft_step", args=[draft.pk, codes[codes.index(step) + 1]])
    if definition.get("attachments") and step is not None:
        return reverse("portal:draft_documents", args=[draft.pk])
    return reverse("portal:draft_check", args=[draft.pk])


@login_required
@require_POST
def service_apply(request: HttpRequest, code: str) -> HttpResponse:
    service = catalog.service_get(code=code, actor=request.user)
    if service is None or not service.can_apply_online:
        raise Http404
    denied = _gate(request, service)
    if denied:
        return denied
    user = request.user
    assert isinstance(user, User)
    try:
        draft = services.draft_start(
            applicant=user, service=service, on_behalf_unp=request.POST.get("on_behalf_unp", "")
        )
    except ApplicationError as error:
        messages.error(request, str(error.message))
        return redirect("portal:service_start", code=service.code)
    registry_data.draft_prefill(actor=user, draft_id=draft.pk)
    first = step_codes(draft.version.definition)[0]
    return redirect("portal:draft_step", draft_id=draft.pk, step=first)


#: A failed fetch is not repeated on every page within this many seconds.
PREFILL_RETRY_SECONDS = 10


def _prefill(request: HttpRequest, draft: Draft, step: str) -> tuple[Draft, dict[str, str], str]:
    """Registry answers for a step: fetched now if the draft has none yet. Returns the draft
    (reloaded when it changed), the sources of the fields shown read-only and the outcome."""
    definition = draft.version.definition
    fields = registry_data.prefill_fields(definition)
    names = {item.name for item in form_fields(definition, step)}
    if not names & set(fields):
        return draft, {}, registry_data.NONE
    outcome = str(draft.prefill.get("status", ""))
    if outcome != registry_data.DONE:
        outcome = registry_data.draft_prefill(
            actor=draft.applicant, draft_id=draft.pk, retry_after_seconds=PREFILL_RETRY_SECONDS
        )
        draft = _draft(request, draft.pk)
    sources = registry_data.prefill_source_labels(draft.prefill.get("sources", {}))
    return draft, sources, outcome


def _prefill_notice(draft: Draft, outcome: str) -> str:
    sources = {
        registry_data.prefill_reference(reference)[0]
        for reference in registry_data.prefill_fields(draft.version.definition).values()
    }
    register = (
        _("the legal entities register")
        if sources == {"legal_entities.entity"}
        else _("the population register")
    )
    if outcome == registry_data.NOT_FOUND:
        return _(
            "We could not find your record in %(register)s, so we cannot fill in these answers "
            "for you. Type them in yourself."
        ) % {"register": register}
    return _(
        "We cannot reach %(register)s at the moment, so we cannot fill in these answers for "
        "you. Type them in yourself, or come back later and we will fill them in."
    ) % {"register": register}


def _prefill_wait(request: HttpRequest, draft: Draft, step: str, outcome: str) -> HttpResponse:
    """The service needs the register's answers and the register cannot give them now."""
    context = {
        "draft": draft,
        "service": draft.version.service,
        "step": step,
        "not_found": outcome == registry_data.NOT_FOUND,
    }
    response = render(request, "portal/apply/prefill_wait.html", context, status=503)
    response["Retry-After"] = "300"
    return response


@login_required
@never_cache
@require_http_methods(["GET"])
def draft_resume(request: HttpRequest, draft_id: Any) -> HttpResponse:
    draft = _draft(request, draft_id)
    codes = step_codes(draft.version.definition)
    for code in codes:
        if code not in draft.completed_steps:
            return redirect("portal:draft_step", draft_id=draft.pk, step=code)
    return redirect("portal:draft_check", draft_id=draft.pk)


def _step_context(draft: Draft, step: str, **extra: Any) -> dict[str, Any]:
    definition = draft.version.definition
    codes = step_codes(definition)
    index = codes.index(step)
    back = (
        reverse("portal:draft_step", args=[draft.pk, codes[index - 1]])
        if index
        else reverse("portal:service_start", args=[draft.version.service.code])
    )
    return {
        "draft": draft,
        "service": draft.version.service,
        "step": step,
        "title": step_title(definition, step),
        "hint": step_hint(definition, step),
        "number": index + 1,
        "total": len(codes),
        "back": back,
        **extra,
    }


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def draft_step(request: HttpRequest, draft_id: Any, step: str) -> HttpResponse:
    draft = _draft(request, draft_id)
    definition = draft.version.definition
    if step not in step_codes(definition):
        raise Http404
    denied = _gate(request, draft.version.service)
    if denied:
        return denied
    returning = request.GET.get("return") == "check"
    draft, sources, outcome = _prefill(request, draft, step)
    notice = ""
    if outcome in (registry_data.UNAVAILABLE, registry_data.NOT_FOUND):
        if registry_data.prefill_policy(definition) == registry_data.WAIT:
            return _prefill_wait(request, draft, step, outcome)
        notice = _prefill_notice(draft, outcome)
    if request.method == "GET":
        fields = field_views(definition, step, draft.data, {}, sources=sources)
        context = _step_context(draft, step, fields=fields, prefill_notice=notice)
        return render(request, "portal/apply/step.html", context)
    # A field filled from a register is not asked: whatever is posted for it is ignored.
    asked = [item for item in form_fields(definition, step) if item.name not in sources]
    values, errors = answers_parse(asked, request.POST)
    if not errors:
        try:
            services.draft_save_step(
                actor=draft.applicant,
                draft_id=draft.pk,
                step_code=step,
                values=values,
                language=language(),
            )
        except services.ApplicationInvalid as invalid:
            errors = invalid.errors
    if errors:
        fields = field_views(
            definition, step, draft.data, errors, posted=request.POST, sources=sources
        )
        context = _step_context(draft, step, fields=fields, has_errors=True, prefill_notice=notice)
        return render(request, "portal/apply/step.html", context, status=400)
    if returning:
        return redirect("portal:draft_check", draft_id=draft.pk)
    return redirect(_next_url(draft, step))


def _documents(draft: Draft) -> list[dict[str, Any]]:
    lang = language()
    files = list(draft.attachments.all())
    out = []
    for rule in draft.version.definition.get("attachments", []):
        mine = [item for item in files if item.requirement == rule["code"]]
        out.append(
            {
                "code": rule["code"],
                "label": text(rule["label"], lang),
                "hint": text(rule.get("hint"), lang),
                "types": ", ".join(TYPE_NAMES[t] for t in rule["content_types"]),
                "accept": ",".join(rule["content_types"]),
                "max_size_mb": rule["max_size_mb"],
                "min_files": rule.get("min_files", 0),
                "max_files": rule.get("max_files", 1),
                "files": mine,
                "can_add": len(mine) < rule.get("max_files", 1),
            }
        )
    return out


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def draft_documents(request: HttpRequest, draft_id: Any) -> HttpResponse:
    draft = _draft(request, draft_id)
    if not draft.version.definition.get("attachments"):
        raise Http404
    denied = _gate(request, draft.version.service)
    if denied:
        return denied
    errors: dict[str, str] = {}
    if request.method == "POST":
        requirement = request.POST.get("requirement", "")
        try:
            services.draft_attach(
                actor=draft.applicant,
                draft_id=draft.pk,
                requirement=requirement,
                uploads=request.FILES.getlist("file"),
            )
        except ApplicationError as error:
            errors[error.field or requirement or "file"] = str(error.message)
        else:
            messages.success(request, _("The file has been attached."))
            return redirect("portal:draft_documents", draft_id=draft.pk)
    context = {
        "draft": draft,
        "service": draft.version.service,
        "documents": _documents(draft),
        "errors": errors,
        "back": reverse(
            "portal:draft_step", args=[draft.pk, step_codes(draft.version.definition)[-1]]
        ),
    }
    return render(request, "portal/apply/documents.html", context, status=400 if errors else 200)


@login_required
@require_POST
def draft_document_remove(request: HttpRequest, draft_id: Any, attachment_id: Any) -> HttpResponse:
    draft = _draft(request, draft_id)
    try:
        services.draft_attachment_remove(
            actor=draft.applicant, draft_id=draft.pk, attachment_id=attachment_id
        )
    except ApplicationError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("The file has been removed."))
    return redirect("portal:draft_documents", draft_id=draft.pk)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def draft_check(request: HttpRequest, draft_id: Any) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    draft = cases.draft_of(actor=user, draft_id=draft_id)
    if draft is None:
        # Submitted already (a second click, a retry): show what the first one made.
        done = cases.application_by_key(actor=user, idempotency_key=str(draft_id))
        if done is not None:
            return redirect("portal:application", number=done.number)
        raise Http404
    denied = _gate(request, draft.version.service)
    if denied:
        return denied
    errors: dict[str, str] = {}
    definition = draft.version.definition
    signing = signature_required(definition)
    if request.method == "POST":
        try:
            signature = (
                signature_submission_parse(
                    cms_base64=request.POST.get("signature_cms", ""),
                    certificate_pem=request.POST.get("signature_certificate", ""),
                    chain_pem=request.POST.get("signature_chain", ""),
                )
                if signing
                else None
            )
            application, _created = services.application_submit(
                applicant=user,
                version=draft.version,
                data=draft.data,
                idempotency_key=str(draft.pk),
                language=language(),
                draft=draft,
                on_behalf_unp=draft.on_behalf_unp,
                signature=signature,
            )
        except services.ApplicationInvalid as invalid:
            errors = invalid.errors
        except SignatureRefused as refused:
            # The draft stays as it was: the person signs again.
            errors = {"signature": str(refused.message)}
        except ApplicationError as error:
            done = cases.application_by_key(actor=user, idempotency_key=str(draft_id))
            if done is not None:  # the first of two clicks made it meanwhile
                return redirect("portal:application", number=done.number)
            errors = {"submit": str(error.message)}
        else:
            messages.success(
                request,
                _("Application %(number)s has been submitted. The agency will decide by %(date)s.")
                % {
                    "number": application.number,
                    "date": application.deadline.strftime("%d.%m.%Y"),
                },
            )
            return redirect("portal:application", number=application.number)
    summary = answers_summary(
        definition,
        draft.data,
        registry_data.prefill_source_labels(
            draft.prefill.get("sources", {}) if registry_data.prefill_values(draft) else {}
        ),
    )
    lang = language()
    fields = {item.name: item for item in form_fields(definition)}
    error_list = []
    for name, message in errors.items():
        step = next(
            (
                s["code"]
                for s in definition["form"]["steps"]
                if any(f["name"] == name for f in s["fields"])
            ),
            None,
        )
        label = fields[name].label(lang) if name in fields else ""
        if step:
            href = reverse("portal:draft_step", args=[draft.pk, step]) + "?return=check"
        elif name == "submit":
            href = "#submit"
        elif name == "signature":
            href = "#sign"
        else:
            href = reverse("portal:draft_documents", args=[draft.pk])
            label = next(
                (
                    text(r["label"], lang)
                    for r in definition.get("attachments", [])
                    if r["code"] == name
                ),
                "",
            )
        error_list.append({"label": label, "message": message, "href": href})
    context = {
        "draft": draft,
        "service": draft.version.service,
        "summary": summary,
        "documents": _documents(draft),
        "error_list": error_list,
        "deadline_days": definition["deadline_working_days"],
        "signing": _signing(draft, definition) if signing else None,
    }
    return render(request, "portal/apply/check.html", context, status=400 if errors else 200)


def _signing(draft: Draft, definition: Any) -> dict[str, str]:
    """What the person signs: the digest the signer signs and the description it shows."""
    organisation = ""
    if draft.on_behalf_unp:
        organisation = next(
            (
                item.organisation_name
                for item in identity.representation_list(actor=draft.applicant)
                if item.unp == draft.on_behalf_unp
            ),
            draft.on_behalf_unp,
        )
    signed = draft_signed_content(draft, definition=definition)
    return {
        "digest": signed.digest_base64,
        "fingerprint": signed.digest_hex,
        "description": signature_description(
            service_name=str(draft.version.service.name), organisation=organisation
        ),
    }


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def draft_delete(request: HttpRequest, draft_id: Any) -> HttpResponse:
    draft = _draft(request, draft_id)
    if request.method == "POST":
        services.draft_delete(actor=draft.applicant, draft_id=draft.pk)
        messages.success(request, _("The draft has been deleted."))
        return redirect("portal:drafts")
    return render(
        request, "portal/apply/delete.html", {"draft": draft, "service": draft.version.service}
    )
