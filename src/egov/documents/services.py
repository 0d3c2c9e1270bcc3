"""Issuing documents: asked for by the workflow, signed by the worker.

``issue_document`` (the workflow action) runs inside the transition's transaction: it checks
that the signing certificate can be used, so a decision is never taken that cannot be signed
(the case stays where it was and the official is told why), and writes the document as
"being signed" with its number and verification code, plus the task that signs it. The
task renders and signs outside any lock; a failure (a key revoked meanwhile, the TSA away)
leaves the document pending and queues another attempt later.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import structlog
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from egov.cases.models import Application
from egov.cases.numbers import number_next
from egov.catalog.definitions import workflow_actions
from egov.core.errors import ApplicationError
from egov.documents.credentials import (
    CredentialsUnavailable,
    DocumentKey,
    certificate_status,
    document_key,
    official_certificate_ensure,
    official_key_name,
    pki_directory,
)
from egov.documents.models import DocumentKind, DocumentStatus, IssuedDocument, Signatory
from egov.documents.rendering import DocumentContent, document_pdf, verification_url
from egov.documents.signing import pdf_sign
from egov.identity.models import User
from egov.trust.pki import PkiError, certificates_list

logger = structlog.get_logger(__name__)

#: Crockford's base32: no I, L, O or U, so a code read aloud or typed is not mistaken.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 16  # 80 random bits
#: Seconds before attempt 2, 3, ...; then hourly, for as long as it takes.
RETRY_SECONDS = (30, 120, 600, 1800, 3600)
#: Document numbers have their own series per agency and year, kept in the application
#: number sequences under the year plus this offset (MVD-2026-D000012).
DOCUMENT_SERIES_OFFSET = 10000


class DocumentCannotBeSigned(ApplicationError):
    code = "document_cannot_be_signed"
    http_status = 409


def verification_code_new() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def verification_code_normalise(text: str) -> str | None:
    """What a person typed (any case, dashes, spaces, O for 0, I or L for 1) as a stored
    code, or None when it cannot be one."""
    cleaned = "".join((text or "")[:64].split()).replace("-", "").upper()
    cleaned = cleaned.translate(str.maketrans("OIL", "011"))
    if len(cleaned) != CODE_LENGTH or not set(cleaned) <= set(CODE_ALPHABET):
        return None
    return cleaned


def document_number_next(*, agency_code: str, year: int) -> str:
    raw = number_next(agency_code=agency_code, year=year + DOCUMENT_SERIES_OFFSET)
    return f"{agency_code}-{year}-D{raw.rsplit('-', 1)[-1]}"


def agency_key_name(agency_code: str) -> str:
    return f"agency-{agency_code.lower()}-documents"


def _key_name(document: IssuedDocument) -> str:
    if document.signatory == Signatory.OFFICIAL and document.decided_by is not None:
        return official_key_name(document.decided_by.get_username())
    return agency_key_name(document.application.agency.code)


REFUSALS = {
    "certificate_revoked": lambda: _(
        "The signing certificate has been revoked: the document cannot be signed. Ask the "
        "administrator for a new certificate, then try again."
    ),
    "certificate_expired": lambda: _(
        "The signing certificate has expired: the document cannot be signed. Ask the "
        "administrator for a new certificate, then try again."
    ),
}


def _refusal_message(code: str) -> str:
    message = REFUSALS.get(code)
    if message is not None:
        return str(message())
    return str(
        _(
            "The signing certificate cannot be used now: the document cannot be signed. Ask "
            "the administrator to check it, then try again."
        )
    )


def _usable_now(name: str) -> None:
    """Refuse a decision whose document could not be signed: a revoked or expired key. A key
    not there yet is the worker's to wait for (``egov trust setup`` issues it)."""
    try:
        key = document_key(name)
    except CredentialsUnavailable:
        # None in force: refused when the name's certificates were all revoked (a key the
        # platform gave up), waited for when none was ever issued.
        if _revoked_only(name):
            raise DocumentCannotBeSigned(_refusal_message("certificate_revoked")) from None
        return
    status = certificate_status(key.certificate, key.chain)
    if not status.good and status.code in ("revoked", "expired", "not_yet_valid", "untrusted"):
        raise DocumentCannotBeSigned(_refusal_message(f"certificate_{status.code}"))


def _revoked_only(name: str) -> bool:
    try:
        entries = [e for e in certificates_list(directory=pki_directory()) if e["name"] == name]
    except (PkiError, OSError, ValueError):
        return False
    return bool(entries) and all(entry.get("revoked_at") for entry in entries)


@workflow_actions.register("issue_document")
def issue_document(
    *, application: Application, action: Mapping[str, Any], actor: User | None
) -> IssuedDocument:
    kind = str(action.get("kind", DocumentKind.DECISION))
    signatory = str(action.get("signatory", Signatory.AGENCY))
    transition = (
        application.events.order_by("-sequence").values_list("transition", flat=True).first()
    ) or ""
    existing = IssuedDocument.objects.filter(
        application=application, kind=kind, transition=transition
    ).first()
    if existing is not None and existing.status == DocumentStatus.SIGNED:
        return existing
    if signatory == Signatory.OFFICIAL:
        if actor is None:
            raise DocumentCannotBeSigned(_("Only a person can sign in their own name."))
        _official_ensure(actor, application)
        _usable_now(official_key_name(actor.get_username()))
    else:
        _usable_now(agency_key_name(application.agency.code))
    if existing is not None:
        return existing
    today = timezone.localdate()
    document = IssuedDocument.objects.create(
        application=application,
        kind=kind,
        number=document_number_next(agency_code=application.agency.code, year=today.year),
        verification_code=verification_code_new(),
        language=application.applicant.language or application.language or "be",
        signatory=signatory,
        decided_by=actor,
        transition=transition,
    )
    _sign_enqueue(document.pk)
    return document


def _official_ensure(official: User, application: Application) -> None:
    try:
        official_certificate_ensure(
            username=official.get_username(),
            full_name=official.full_name,
            organisation=application.agency.name,
        )
    except PkiError as error:  # no PKI yet: the worker waits for it like for a missing key
        logger.warning("official_certificate_unavailable", reason=str(error)[:200])


def _sign_enqueue(document_id: int, run_after: Any = None) -> None:
    from egov.documents.tasks import document_sign

    if run_after is None:
        document_sign.enqueue(document_id)
    else:
        document_sign.using(run_after=run_after).enqueue(document_id)


def _localised(instance: Any, attribute: str, language: str) -> str:
    return str(getattr(instance, f"{attribute}_{language}", "") or getattr(instance, attribute))


def _content(document: IssuedDocument, issued_at: Any) -> DocumentContent:
    application = document.application
    language = document.language
    agency = application.agency
    applicant = application.applicant
    official = document.decided_by
    with translation.override(language):
        if official is not None:
            signatory_name = official.full_name
            short_name = _localised(agency, "short_name", language)
            signatory_role = f"{official.get_official_role_display()}, {short_name}"
        else:
            signatory_name = _localised(agency, "name", language)
            signatory_role = str(_("Electronic seal of the agency"))
    return DocumentContent(
        kind=document.kind,
        language=language,
        number=document.number,
        issued_on=timezone.localtime(issued_at),
        agency_name=_localised(agency, "name", language),
        agency_address=_localised(agency, "address", language),
        applicant_name=applicant.full_name,
        on_behalf_unp=application.on_behalf_unp,
        application_number=application.number,
        submitted_at=timezone.localtime(application.submitted_at),
        service_name=_localised(application.service, "name", language),
        decision_text=application.decision_text,
        signatory_name=signatory_name,
        signatory_role=signatory_role,
        verification_url=verification_url(document.verification_code),
        code_display=document.code_display,
    )


def document_sign(*, document_id: int) -> str:
    """Render and sign one pending document. Idempotent: a signed document is left alone,
    and the result is written only onto a row that is still pending."""
    document = (
        IssuedDocument.objects.select_related(
            "application__agency", "application__service", "application__applicant", "decided_by"
        )
        .filter(pk=document_id)
        .first()
    )
    if document is None:
        return "gone"
    if document.status == DocumentStatus.SIGNED:
        return "signed"
    issued_at = timezone.now()
    try:
        if document.signatory == Signatory.OFFICIAL and document.decided_by is not None:
            _official_ensure(document.decided_by, document.application)
        key: DocumentKey = document_key(_key_name(document))
        content = _content(document, issued_at)
        with translation.override(document.language):
            reason = str(dict(DocumentKind.choices)[document.kind])
        signed = pdf_sign(document_pdf(content), key=key, reason=reason)
    except CredentialsUnavailable as unavailable:
        return _later(document, unavailable.code)
    except Exception as error:  # any failure is recorded and retried, never lost
        logger.exception("document_sign_failed", document_id=document.pk)
        return _later(document, f"error_{type(error).__name__}")
    return _signed(document, signed.pdf, key, content, issued_at)


def _later(document: IssuedDocument, code: str) -> str:
    delay = RETRY_SECONDS[min(document.attempts, len(RETRY_SECONDS) - 1)]
    when = timezone.now() + timedelta(seconds=delay)
    IssuedDocument.objects.filter(pk=document.pk, status=DocumentStatus.PENDING).update(
        attempts=F("attempts") + 1, last_error=code[:200], next_attempt_at=when
    )
    logger.warning("document_sign_later", document_id=document.pk, reason=code, retry_in=delay)
    _sign_enqueue(document.pk, run_after=when)
    return "pending"


def _signed(
    document: IssuedDocument,
    pdf: bytes,
    key: DocumentKey,
    content: DocumentContent,
    issued_at: Any,
) -> str:
    from egov.audit import record
    from egov.trust.pki import fingerprint_sha256

    digest = hashlib.sha256(pdf).hexdigest()
    fingerprint = fingerprint_sha256(key.certificate)
    with transaction.atomic():
        locked = IssuedDocument.objects.select_for_update().get(pk=document.pk)
        if locked.status == DocumentStatus.SIGNED:
            return "signed"
        # The file is written inside the transaction: a rollback leaves an orphan file with a
        # random name, never a signed row without its file.
        locked.file.save(f"{locked.number}.pdf", ContentFile(pdf), save=False)
        locked.status = DocumentStatus.SIGNED
        locked.sha256 = digest
        locked.size = len(pdf)
        locked.signatory_name = content.signatory_name
        locked.signatory_role = content.signatory_role
        locked.signer_fingerprint = fingerprint
        locked.issued_at = issued_at
        locked.last_error = ""
        locked.next_attempt_at = None
        locked.save()
        application = locked.application
        record(
            "document.signed",
            actor=locked.decided_by,
            subject=application.on_behalf_unp or application.applicant.personal_number or "",
            data={
                "number": locked.number,
                "kind": locked.kind,
                "application": application.number,
                "sha256": digest,
                "signer_fingerprint": fingerprint,
                "key": key.name,
            },
        )
        _notify(locked)
    logger.info("document_signed", document_id=locked.pk, kind=locked.kind)
    return "signed"


def _notify(document: IssuedDocument) -> None:
    from egov.notifications.services import message_send

    application = document.application
    recipient = application.applicant
    service = application.service
    agency = application.agency
    with translation.override(recipient.language or "be"):
        link = reverse("portal:application", kwargs={"number": application.number})
    message_send(
        recipient=recipient,
        template="document_issued",
        reference=application.number,
        link=link,
        context={
            "number": application.number,
            "document_number": document.number,
            "kind": document.kind,
            "service_name": {lang: getattr(service, f"name_{lang}") or "" for lang in LANGS},
            "agency_name": {lang: getattr(agency, f"name_{lang}") or "" for lang in LANGS},
        },
    )


LANGS = ("be", "ru", "en")
