"""The public verification pages: anyone may check a document by its code or by uploading
the PDF. Only what the document itself says to the holder of its code is shown."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from egov.core.files import download_response
from egov.documents import selectors
from egov.documents.models import IssuedDocument
from egov.documents.services import verification_code_normalise
from egov.documents.verification import Report, VerificationFailed, pdf_verify


def _page(request: HttpRequest, status: int = 200, **context: Any) -> HttpResponse:
    context.setdefault("max_mb", settings.DOCUMENTS_VERIFY_MAX_BYTES // (1024 * 1024))
    return render(request, "documents/verify.html", context, status=status)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def verify_index(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request)
    typed = str(request.POST.get("code", ""))[:64]
    code = verification_code_normalise(typed)
    if code is None:
        return _page(
            request,
            status=400,
            code=typed,
            code_error=_("Enter the 16 letters and digits of the code printed under the QR code."),
        )
    return redirect("documents:code", code=code)


@never_cache
@require_POST
def verify_upload(request: HttpRequest) -> HttpResponse:
    upload = request.FILES.get("document")
    if upload is None:
        return _page(request, status=400, upload_error=_("Choose the PDF file to check."))
    if upload.size is None or upload.size > settings.DOCUMENTS_VERIFY_MAX_BYTES:
        return _page(
            request,
            status=400,
            upload_error=_("The file is larger than %(size)d MB: this is not a document we issue.")
            % {"size": settings.DOCUMENTS_VERIFY_MAX_BYTES // (1024 * 1024)},
        )
    data = upload.read(settings.DOCUMENTS_VERIFY_MAX_BYTES + 1)
    try:
        report = pdf_verify(data)
    except VerificationFailed as failed:
        return _page(request, status=400, upload_error=failed.message)
    document = selectors.document_by_digest(report.sha256)
    return _page(request, report=report, document=document, uploaded=True)


@never_cache
@require_safe
def verify_code(request: HttpRequest, code: str) -> HttpResponse:
    normalised = verification_code_normalise(code)
    document = selectors.document_by_code(normalised) if normalised else None
    if document is None:
        return _page(
            request,
            status=404,
            code=code[:64],
            code_error=_("No signed document has this code. Check the code and try again."),
        )
    if normalised != code:
        return redirect("documents:code", code=normalised)
    return _page(request, document=document, report=_stored_report(document))


def _stored_report(document: IssuedDocument) -> Report | None:
    with document.file.open("rb") as handle:
        data = handle.read()
    try:
        return pdf_verify(data)
    except VerificationFailed:
        return None


@require_safe
def verify_download(request: HttpRequest, code: str) -> FileResponse:
    normalised = verification_code_normalise(code)
    document = selectors.document_by_code(normalised) if normalised else None
    if document is None:
        raise Http404
    return document_response(document)


def document_response(document: IssuedDocument) -> FileResponse:
    """The signed PDF as a download (the cabinet and the back office use it too)."""
    return download_response(
        document.file, content_type="application/pdf", name=f"{document.number}.pdf"
    )
