"""Reads of issued documents, always on behalf of someone: the applicant sees the documents
of their own applications, an official those of their agency's cases; anyone holding a
verification code sees that one document."""

from __future__ import annotations

from django.db.models import QuerySet

from egov.cases.models import Application
from egov.documents.models import DocumentStatus, IssuedDocument
from egov.identity.models import User, UserKind


def documents_of_application(*, actor: User, application: Application) -> list[IssuedDocument]:
    if not _may_see(actor, application):
        return []
    return list(application.issued_documents.order_by("created_at", "pk"))


def _may_see(actor: User, application: Application) -> bool:
    if application.applicant_id == actor.pk:
        return True
    return bool(
        actor.kind == UserKind.OFFICIAL
        and actor.agency_id is not None
        and actor.agency_id == application.agency_id
    )


def document_of(
    *, actor: User, application: Application, document_id: object
) -> IssuedDocument | None:
    """A signed document of the application the actor may see, or None (a 404 for them)."""
    if not _may_see(actor, application):
        return None
    try:
        pk = int(str(document_id))
    except ValueError:
        return None
    return application.issued_documents.filter(pk=pk, status=DocumentStatus.SIGNED).first()


def signed_documents() -> QuerySet[IssuedDocument]:
    return IssuedDocument.objects.filter(status=DocumentStatus.SIGNED).select_related(
        "application__agency", "application__service"
    )


def document_by_code(code: str) -> IssuedDocument | None:
    """The signed document of a (normalised) verification code: the code is the proof."""
    return signed_documents().filter(verification_code=code).first()


def document_by_digest(sha256: str) -> IssuedDocument | None:
    return signed_documents().filter(sha256=sha256).first()
