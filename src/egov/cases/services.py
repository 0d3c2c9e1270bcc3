"""Write use cases of applications: drafts, submission, the workflow, the case work.

Each public function is one transaction. Rules that a person can break raise an
``ApplicationError`` subclass with a translated message; nothing is written then.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

import structlog
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from egov.audit import record as audit_record
from egov.cases import workflow as engine
from egov.cases.answers import answers_clean, answers_validate, form_fields
from egov.cases.attachments import (
    ANSWER_RULE,
    CheckedFile,
    FileRejected,
    attachments_store,
    files_check,
    files_delete,
    files_kept_only_on_commit,
)
from egov.cases.models import (
    ActorRole,
    AgencyCasesVersion,
    Application,
    ApplicationEvent,
    Attachment,
    Draft,
    InformationRequest,
    InternalNote,
    Outcome,
    Rating,
    StateKind,
)
from egov.cases.numbers import number_next
from egov.cases.registry_data import prefill_values
from egov.cases.signatures import (
    SignatureMissing,
    SignatureRefused,
    SignatureSubmission,
    draft_signed_content,
    signature_required,
    signature_store,
    signature_verify,
    submission_content,
)
from egov.catalog import selectors as catalog_selectors
from egov.catalog.definitions import APPLICANT, Transition, workflow_actions
from egov.catalog.models import Audience, Service, ServiceVersion, VersionStatus
from egov.core.errors import ApplicationError
from egov.core.workdays import add_working_days, working_days_between
from egov.identity.models import OfficialRole, User, UserKind
from egov.identity.selectors import representation_holds
from egov.notifications.services import message_send

logger = structlog.get_logger(__name__)


class ApplicationInvalid(ApplicationError):
    """The answers or files do not meet the form; ``errors`` maps field names to messages."""

    code = "application_invalid"
    http_status = 400

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__(_("Some answers need correcting."))
        self.errors = dict(errors)


class IdempotencyConflict(ApplicationError):
    code = "idempotency_key_reused"
    http_status = 409


class NotAllowed(ApplicationError):
    code = "not_allowed"
    http_status = 403


# --- drafts ---------------------------------------------------------------------------------


def _service_open_for(
    *, applicant: User, service: Service, version: ServiceVersion | None = None
) -> ServiceVersion:
    if version is None:
        version = service.versions.filter(status=VersionStatus.PUBLISHED).first()
    if version is None or not service.is_published or not service.can_apply_online:
        raise NotAllowed(_("This service cannot be applied for online at the moment."))
    allowed_kinds = (
        (UserKind.CITIZEN,) if service.audience == Audience.CITIZENS else (UserKind.BUSINESS,)
    )
    if applicant.kind not in allowed_kinds:
        raise NotAllowed(
            _("This service is for citizens.")
            if service.audience == Audience.CITIZENS
            else _("This service is for business representatives.")
        )
    return version


def draft_start(*, applicant: User, service: Service, on_behalf_unp: str = "") -> Draft:
    version = _service_open_for(applicant=applicant, service=service)
    if service.audience == Audience.BUSINESSES:
        if not representation_holds(actor=applicant, unp=on_behalf_unp):
            raise NotAllowed(_("Choose an organisation you may act for."))
    else:
        on_behalf_unp = ""
    return Draft.objects.create(applicant=applicant, version=version, on_behalf_unp=on_behalf_unp)


def _draft_locked(*, actor: User, draft_id: Any) -> Draft:
    draft = Draft.objects.select_for_update().filter(pk=draft_id, applicant=actor).first()
    if draft is None:
        raise NotAllowed(_("This draft does not exist or has already been submitted."))
    return draft


def draft_save_step(
    *, actor: User, draft_id: Any, step_code: str, values: Mapping[str, Any], language: str
) -> Draft:
    """Keep one page's answers. Invalid answers raise ``ApplicationInvalid`` and the draft
    keeps what it had."""
    with transaction.atomic():
        draft = _draft_locked(actor=actor, draft_id=draft_id)
        definition = draft.version.definition
        names = [field.name for field in form_fields(definition, step_code)]
        if not names:
            raise NotAllowed(_("This page is not part of the form."))
        data = {key: value for key, value in draft.data.items() if key not in names}
        data.update({key: value for key, value in values.items() if key in names})
        # What a register filled in stays as the register said, whatever was posted.
        data.update({k: v for k, v in prefill_values(draft).items() if k in names})
        errors = answers_validate(definition=definition, data=data, only=names, language=language)
        if errors:
            raise ApplicationInvalid(errors)
        draft.data = data
        if step_code not in draft.completed_steps:
            draft.completed_steps = [*draft.completed_steps, step_code]
        draft.save(update_fields=["data", "completed_steps", "updated_at"])
    return draft


def draft_delete(*, actor: User, draft_id: Any) -> None:
    with transaction.atomic():
        draft = _draft_locked(actor=actor, draft_id=draft_id)
        files = [attachment.file.name for attachment in draft.attachments.all()]
        draft.attachments.all().delete()
        draft.delete()
        transaction.on_commit(lambda: files_delete(files))


def draft_attach(
    *, actor: User, draft_id: Any, requirement: str, uploads: Iterable[UploadedFile]
) -> list[Attachment]:
    with files_kept_only_on_commit() as written, transaction.atomic():
        draft = _draft_locked(actor=actor, draft_id=draft_id)
        rules = {rule["code"]: rule for rule in draft.version.definition.get("attachments", [])}
        rule = rules.get(requirement)
        if rule is None:
            raise NotAllowed(_("This document is not asked for by the service."))
        uploads = list(uploads)
        if not uploads:
            raise FileRejected(_("Select a file."), field=requirement)
        already = draft.attachments.filter(requirement=requirement).count()
        checked = files_check(uploads, rule, already)
        return attachments_store(
            checked, written=written, actor=actor, draft=draft, requirement=requirement
        )


def draft_attachment_remove(*, actor: User, draft_id: Any, attachment_id: Any) -> None:
    with transaction.atomic():
        draft = _draft_locked(actor=actor, draft_id=draft_id)
        attachment = draft.attachments.filter(pk=attachment_id).first()
        if attachment is None:
            raise NotAllowed(_("This file is not part of the draft."))
        name = attachment.file.name
        attachment.delete()
        transaction.on_commit(lambda: files_delete([name]))


# --- submission -----------------------------------------------------------------------------


def _payload_hash(version: ServiceVersion, data: Mapping[str, Any]) -> str:
    payload = json.dumps([version.pk, dict(data)], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def _version_key(version: ServiceVersion) -> tuple[int, object]:
    return (version.pk, version.updated_at)


def application_submit(
    *,
    applicant: User,
    version: ServiceVersion,
    data: Mapping[str, Any],
    idempotency_key: str,
    language: str,
    draft: Draft | None = None,
    uploads: Mapping[str, list[UploadedFile]] | None = None,
    on_behalf_unp: str = "",
    signature: SignatureSubmission | None = None,
) -> tuple[Application, bool]:
    """Submit once. The same key again returns the application made the first time (and
    ``False``); the same key with different answers is refused.

    Files come either from the draft (the portal) or as ``uploads`` by requirement code (the
    API); either way every file is checked before anything is written. A service whose
    definition requires a signature needs ``signature`` over exactly what is stored
    (``egov.cases.signatures``)."""
    if not idempotency_key or len(idempotency_key) > 64:
        raise ApplicationError(
            _("A submission key of 1 to 64 characters is required."), code="idempotency_key"
        )
    definition = catalog_selectors.version_definition(version)
    prefilled = prefill_values(draft) if draft is not None else {}
    data = answers_clean(definition=definition, data={**data, **prefilled})
    payload_hash = _payload_hash(version, data)
    existing = Application.objects.filter(
        applicant=applicant, idempotency_key=idempotency_key
    ).first()
    if existing is not None:
        # Compared with the version it was made on: a newer version since changes nothing.
        return _same_submission(existing, _payload_hash(existing.version, data)), False
    service = version.service
    if version.status != VersionStatus.PUBLISHED:
        raise NotAllowed(_("This version of the service is no longer accepted. Start again."))
    _service_open_for(applicant=applicant, service=service, version=version)
    if service.audience == Audience.BUSINESSES:
        if not representation_holds(actor=applicant, unp=on_behalf_unp):
            raise NotAllowed(_("Choose an organisation you may act for."))
    else:
        on_behalf_unp = ""
    errors = answers_validate(
        definition=definition, data=data, language=language, cache_key=_version_key(version)
    )
    uploads = dict(uploads or {})
    rules = {rule["code"]: rule for rule in definition.get("attachments", [])}
    checked: list[tuple[str, CheckedFile]] = []
    for code in uploads:
        if code not in rules:
            errors[code] = _("This document is not asked for by the service.")
    for code, rule in rules.items():
        files = uploads.get(code, [])
        count = draft.attachments.filter(requirement=code).count() if draft else 0
        try:
            checked += [(code, item) for item in files_check(files, rule, count)]
        except FileRejected as error:
            errors[code] = str(error.message)
            continue
        if count + len(files) < rule.get("min_files", 0):
            errors[code] = _("Attach this document.")
    if errors:
        raise ApplicationInvalid(errors)
    verified = None
    if signature_required(definition):
        if signature is None:
            raise SignatureMissing(_("This service requires your signature: sign the application."))
        signed = submission_content(
            service_code=service.code,
            version_number=version.number,
            answers=data,
            attachments=[
                *(
                    (item.requirement, item.original_name, item.sha256)
                    for item in (draft.attachments.all() if draft else [])
                ),
                *((code, item.name, item.sha256) for code, item in checked),
            ],
        )
        verified = signature_verify(
            submission=signature, content=signed, applicant=applicant, on_behalf_unp=on_behalf_unp
        )
    workflow = engine.workflow_of_version(version)
    initial = workflow.states[workflow.initial]
    now = timezone.now()
    today = timezone.localdate(now)
    try:
        with files_kept_only_on_commit() as written, transaction.atomic():
            if draft is not None:
                draft = _draft_locked(actor=applicant, draft_id=draft.pk)
                if verified is not None and (
                    draft_signed_content(draft, definition=definition).digest
                    != verified.content.digest
                ):
                    # A file added or removed in another tab since the page was signed.
                    raise SignatureRefused(
                        _("The application has changed since you signed it. Sign it again.")
                    )
            application = Application.objects.create(
                number=number_next(agency_code=service.agency.code, year=today.year),
                history_length=1,
                service=service,
                version=version,
                agency=service.agency,
                applicant=applicant,
                on_behalf_unp=on_behalf_unp,
                state=initial.code,
                state_kind=initial.kind,
                data=data,
                prefilled=dict(draft.prefill.get("sources", {})) if prefilled and draft else {},
                language=language,
                submitted_at=now,
                deadline=add_working_days(today, int(definition["deadline_working_days"])),
                idempotency_key=idempotency_key,
                payload_hash=payload_hash,
            )
            ApplicationEvent.objects.create(
                application=application,
                sequence=1,
                kind=ApplicationEvent.Kind.SUBMITTED,
                to_state=initial.code,
                actor=applicant,
                actor_role=ActorRole.APPLICANT,
            )
            _ledger(application, ApplicationEvent.Kind.SUBMITTED, applicant, to_state=initial.code)
            if draft is not None:
                draft.attachments.update(application=application, draft=None)
                draft.delete()
            if verified is not None:
                signature_store(application=application, verified=verified)
            _advance_enqueue(application, workflow)
            _agency_changed(application.agency_id)
            for code, item in checked:
                attachments_store(
                    [item],
                    written=written,
                    actor=applicant,
                    application=application,
                    requirement=code,
                )
    except IntegrityError:
        # A concurrent request with the same key won the race: answer as a retry would.
        existing = Application.objects.filter(
            applicant=applicant, idempotency_key=idempotency_key
        ).first()
        if existing is None:
            raise
        return _same_submission(existing, payload_hash), False
    return application, True


def _same_submission(existing: Application, payload_hash: str) -> Application:
    if existing.payload_hash != payload_hash:
        raise IdempotencyConflict(_("This submission key was already used for different answers."))
    return existing


def _event(
    application: Application,
    kind: str,
    *,
    actor: User | None,
    role: str,
    transition: str = "",
    from_state: str = "",
    to_state: str = "",
    comment: str = "",
) -> ApplicationEvent:
    # Every caller holds the application's row lock (``_locked``), so the count it read is
    # current: no re-read is needed to number the event.
    application.history_length += 1
    Application.objects.filter(pk=application.pk).update(history_length=application.history_length)
    event = ApplicationEvent.objects.create(
        application=application,
        sequence=application.history_length,
        kind=kind,
        transition=transition,
        from_state=from_state,
        to_state=to_state,
        actor=actor,
        actor_role=role,
        comment=comment,
    )
    _ledger(
        application,
        kind,
        actor,
        role=role,
        transition=transition,
        from_state=from_state,
        to_state=to_state,
        sequence=event.sequence,
    )
    return event


def _ledger(application: Application, kind: str, actor: User | None, **data: Any) -> None:
    """Every line of an application's history also goes into the audit ledger (a decision
    once more as ``case.decided``), about the applicant or the organisation applied for."""
    subject = application.on_behalf_unp or application.applicant.personal_number or ""
    fields = {"application": application.number, "service": application.service.code, **data}
    audit_record(f"case.{kind}", actor=actor, subject=subject, data=fields)
    if kind == ApplicationEvent.Kind.TRANSITION and application.state_kind == StateKind.FINAL:
        audit_record(
            "case.decided",
            actor=actor,
            subject=subject,
            data={**fields, "outcome": application.outcome},
        )


def _agency_changed(agency_id: int) -> None:
    """Once the transaction commits, tell the queue pages that the agency's cases changed.
    After the commit, so that no page rendered before the change is stored under the new
    version; a one-row statement of its own, so no lock is held through a transaction."""

    def bump() -> None:
        updated = AgencyCasesVersion.objects.filter(agency_id=agency_id).update(
            version=F("version") + 1
        )
        if not updated:
            try:
                with transaction.atomic():
                    AgencyCasesVersion.objects.create(agency_id=agency_id, version=1)
            except IntegrityError:
                AgencyCasesVersion.objects.filter(agency_id=agency_id).update(
                    version=F("version") + 1
                )

    transaction.on_commit(bump)


def _advance_enqueue(application: Application, workflow: engine.Workflow) -> None:
    from egov.cases.tasks import application_advance

    if workflow.automatic_from(application.state) is not None:
        application_advance.enqueue(application.pk)


# --- the workflow ---------------------------------------------------------------------------


def _locked(application_id: int) -> Application:
    return (
        Application.objects.select_for_update(of=("self",))
        .select_related("version", "service", "agency", "applicant", "assignee")
        .get(pk=application_id)
    )


MAX_COMMENT = 5000


def transition_fire(
    *, application_id: int, transition_code: str, actor: User | None, comment: str = ""
) -> Application:
    """Fire a transition for the actor's role, or raise ``TransitionNotAllowed`` and change
    nothing. ``actor=None`` is the system (automatic steps)."""
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise ApplicationInvalid(
            {"comment": _("Enter %(count)d characters or fewer.") % {"count": MAX_COMMENT}}
        )
    with transaction.atomic():
        application = _locked(application_id)
        workflow = engine.workflow_of(application)
        transition = workflow.transitions.get(transition_code)
        if transition is None:
            raise engine.TransitionNotAllowed(_("There is no such action for this application."))
        _apply(application, workflow, transition, actor=actor, comment=comment)
    return application


def _apply(
    application: Application,
    workflow: engine.Workflow,
    transition: Transition,
    *,
    actor: User | None,
    comment: str,
    enqueue_next: bool = True,
) -> None:
    check = engine.transition_check(
        application=application, transition=transition, actor=actor, comment=comment
    )
    if not check.allowed:
        raise engine.TransitionNotAllowed(check.reason)
    role = engine.actor_role(actor=actor, application=application) or ActorRole.SYSTEM
    source = application.state
    target = workflow.states[transition.target]
    now = timezone.now()
    today = timezone.localdate(now)
    if application.paused_at is not None and target.kind != StateKind.WAITING:
        # The time spent waiting for the applicant does not count against the agency.
        paused = working_days_between(timezone.localdate(application.paused_at), today)
        application.deadline = add_working_days(application.deadline, max(paused, 0))
        application.paused_at = None
    if target.kind == StateKind.WAITING and application.paused_at is None:
        application.paused_at = now
    application.state = target.code
    application.state_kind = target.kind
    application.outcome = target.outcome or ""
    if target.kind == StateKind.FINAL:
        application.decided_at = now
        if target.outcome in (Outcome.APPROVED, Outcome.REFUSED):
            application.decision_text = comment
    application.save(
        update_fields=[
            "state",
            "state_kind",
            "outcome",
            "deadline",
            "paused_at",
            "decided_at",
            "decision_text",
            "updated_at",
        ]
    )
    _event(
        application,
        ApplicationEvent.Kind.TRANSITION,
        actor=actor,
        role=role,
        transition=transition.code,
        from_state=source,
        to_state=target.code,
        comment=comment,
    )
    for action in transition.actions:
        _action_run(application, workflow, action, actor=actor, comment=comment, today=today)
    _agency_changed(application.agency_id)
    if enqueue_next:
        _advance_enqueue(application, workflow)


def _action_run(
    application: Application,
    workflow: engine.Workflow,
    action: Mapping[str, Any],
    *,
    actor: User | None,
    comment: str,
    today: Any,
) -> None:
    kind = action["type"]
    if kind == "notify":
        _notify(application, workflow, action["template"])
    elif kind == "request_information":
        if actor is None:
            raise engine.TransitionNotAllowed(_("Only a person can ask a question."))
        InformationRequest.objects.create(
            application=application,
            question=comment,
            requested_by=actor,
            answer_by=add_working_days(today, int(action["answer_within_working_days"])),
        )
    elif kind == "set_deadline":
        application.deadline = add_working_days(today, int(action["working_days"]))
        application.save(update_fields=["deadline"])
    else:
        workflow_actions[kind](application=application, action=action, actor=actor)


def _notify(application: Application, workflow: engine.Workflow, template: str) -> None:
    recipient = application.applicant
    service = application.service
    agency = application.agency
    open_request = application.information_requests.filter(answered_at__isnull=True).first()
    with translation.override(recipient.language or "be"):
        link = reverse("portal:application", kwargs={"number": application.number})
    message_send(
        recipient=recipient,
        template=template,
        reference=application.number,
        link=link,
        context={
            "number": application.number,
            "service_name": {lang: getattr(service, f"name_{lang}") or "" for lang in LANGS},
            "agency_name": {lang: getattr(agency, f"name_{lang}") or "" for lang in LANGS},
            "deadline": application.deadline,
            "state_label": dict(workflow.states[application.state].label),
            "question": open_request.question if open_request else "",
            "answer_by": open_request.answer_by if open_request else "",
            "decision": application.decision_text,
        },
    )


LANGS = ("be", "ru", "en")


def application_advance(*, application_id: int) -> list[str]:
    """Run the automatic (system) steps due from the current state. Safe to run any number of
    times: a step already taken is not found again, and the row lock orders racing workers."""
    fired: list[str] = []
    for _step in range(20):
        with transaction.atomic():
            application = _locked(application_id)
            workflow = engine.workflow_of(application)
            transition = workflow.automatic_from(application.state)
            if transition is None:
                break
            _apply(application, workflow, transition, actor=None, comment="", enqueue_next=False)
            fired.append(transition.code)
    return fired


# --- the applicant's actions ----------------------------------------------------------------


def _as_applicant(application: Application, actor: User) -> None:
    if application.applicant_id != actor.pk:
        raise NotAllowed(_("This is not your application."))


def information_answer(
    *, actor: User, application_id: int, answer: str, uploads: Iterable[UploadedFile]
) -> Application:
    """Answer the open request for information and hand the application back to the agency."""
    answer = (answer or "").strip()
    uploads = list(uploads)
    if not answer and not uploads:
        raise ApplicationInvalid({"answer": _("Write an answer or attach a file.")})
    if len(answer) > 5000:
        raise ApplicationInvalid({"answer": _("Enter 5000 characters or fewer.")})
    checked = files_check(uploads, ANSWER_RULE)
    with files_kept_only_on_commit() as written, transaction.atomic():
        application = _locked(application_id)
        _as_applicant(application, actor)
        request = application.information_requests.filter(answered_at__isnull=True).first()
        if request is None:
            raise NotAllowed(_("There is no open request for information to answer."))
        workflow = engine.workflow_of(application)
        transition = next(
            (
                t
                for t in workflow.leaving(application.state)
                if APPLICANT in t.actors and workflow.states[t.target].outcome != "withdrawn"
            ),
            None,
        )
        if transition is None:
            raise NotAllowed(_("This application is not waiting for your answer."))
        request.answer = answer
        request.answered_at = timezone.now()
        request.save(update_fields=["answer", "answered_at"])
        _event(
            application,
            ApplicationEvent.Kind.ANSWERED,
            actor=actor,
            role=ActorRole.APPLICANT,
            comment=answer,
        )
        _apply(application, workflow, transition, actor=actor, comment="")
        attachments_store(
            checked,
            written=written,
            actor=actor,
            application=application,
            information_request=request,
        )
    return application


def application_withdraw(*, actor: User, application_id: int, comment: str = "") -> Application:
    with transaction.atomic():
        application = _locked(application_id)
        _as_applicant(application, actor)
        workflow = engine.workflow_of(application)
        transition = next(
            (
                t
                for t in workflow.leaving(application.state)
                if APPLICANT in t.actors and workflow.states[t.target].outcome == "withdrawn"
            ),
            None,
        )
        if transition is None:
            raise engine.TransitionNotAllowed(
                _("The application can no longer be withdrawn at this stage.")
            )
        _apply(application, workflow, transition, actor=actor, comment=comment)
    return application


def application_rate(*, actor: User, application_id: int, score: int, comment: str = "") -> Rating:
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise ApplicationInvalid({"score": _("Choose a score from 1 to 5.")})
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise ApplicationInvalid({"comment": _("Enter 2000 characters or fewer.")})
    with transaction.atomic():
        application = _locked(application_id)
        _as_applicant(application, actor)
        if application.outcome not in (Outcome.APPROVED, Outcome.REFUSED):
            raise NotAllowed(_("You can rate the service once a decision has been made."))
        if Rating.objects.filter(application=application).exists():
            raise NotAllowed(_("You have already rated this service for this application."))
        rating = Rating.objects.create(application=application, score=score, comment=comment)
        _event(
            application,
            ApplicationEvent.Kind.RATED,
            actor=actor,
            role=ActorRole.APPLICANT,
            comment=f"{score}/5",
        )
    return rating


# --- the official's actions -----------------------------------------------------------------

CASE_ROLES = (OfficialRole.CLERK, OfficialRole.DECISION_MAKER, OfficialRole.AGENCY_ADMIN)


def _as_official(application: Application, actor: User) -> str:
    role = engine.actor_role(actor=actor, application=application)
    if role not in CASE_ROLES:
        raise NotAllowed(_("This case belongs to another agency."))
    return str(role)


def case_claim(*, actor: User, application_id: int) -> Application:
    with transaction.atomic():
        application = _locked(application_id)
        role = _as_official(application, actor)
        if role == OfficialRole.AGENCY_ADMIN:
            raise NotAllowed(_("An agency administrator assigns cases but does not work on them."))
        if application.state_kind == StateKind.FINAL:
            raise NotAllowed(_("This case is closed."))
        if application.assignee_id == actor.pk:
            return application
        if application.assignee_id is not None:
            raise NotAllowed(
                _("%(name)s is already working on this case.")
                % {"name": application.assignee.full_name}  # type: ignore[union-attr]
            )
        application.assignee = actor
        application.save(update_fields=["assignee", "updated_at"])
        _agency_changed(application.agency_id)
        _event(application, ApplicationEvent.Kind.CLAIMED, actor=actor, role=role)
    return application


def case_assign(*, actor: User, application_id: int, assignee_id: int) -> Application:
    """A decision maker or agency administrator gives the case to an official of the agency."""
    with transaction.atomic():
        application = _locked(application_id)
        role = _as_official(application, actor)
        if role not in (OfficialRole.DECISION_MAKER, OfficialRole.AGENCY_ADMIN):
            raise NotAllowed(_("Only a decision maker or an agency administrator assigns cases."))
        if application.state_kind == StateKind.FINAL:
            raise NotAllowed(_("This case is closed."))
        assignee = User.objects.filter(
            pk=assignee_id,
            kind=UserKind.OFFICIAL,
            agency_id=application.agency_id,
            is_active=True,
            official_role__in=[OfficialRole.CLERK, OfficialRole.DECISION_MAKER],
        ).first()
        if assignee is None:
            raise ApplicationInvalid({"assignee": _("Choose an official of your agency.")})
        if application.assignee_id == assignee.pk:
            return application
        application.assignee = assignee
        application.save(update_fields=["assignee", "updated_at"])
        _agency_changed(application.agency_id)
        _event(
            application,
            ApplicationEvent.Kind.ASSIGNED,
            actor=actor,
            role=role,
            comment=assignee.full_name,
        )
    return application


def internal_note_add(*, actor: User, application_id: int, note: str) -> InternalNote:
    note = (note or "").strip()
    if not note:
        raise ApplicationInvalid({"note": _("Write the note.")})
    if len(note) > 5000:
        raise ApplicationInvalid({"note": _("Enter 5000 characters or fewer.")})
    with transaction.atomic():
        application = _locked(application_id)
        _as_official(application, actor)
        return InternalNote.objects.create(application=application, author=actor, text=note)
