"""A document's HTML (a Django template per kind) printed to PDF by WeasyPrint.

Plain official layout, no emblem: the agency, the document's number and date, the applicant,
the service, the decision, the signatory and a QR code to the public verification page with
the code in text under it. The fonts are embedded (DejaVu has Latin and Cyrillic), so the PDF
reads the same on any machine.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

FONT_FILES = {
    ("normal", "normal"): "DejaVuSans.ttf",
    ("bold", "normal"): "DejaVuSans-Bold.ttf",
    ("normal", "italic"): "DejaVuSans-Oblique.ttf",
}


@dataclass(frozen=True)
class DocumentContent:
    """What goes on the page, already in the document's language."""

    kind: str
    language: str
    number: str
    issued_on: datetime
    agency_name: str
    agency_address: str
    applicant_name: str
    on_behalf_unp: str
    application_number: str
    submitted_at: datetime
    service_name: str
    decision_text: str
    signatory_name: str
    signatory_role: str
    verification_url: str
    code_display: str


def verification_url(code: str) -> str:
    return f"{settings.PORTAL_BASE_URL.rstrip('/')}/verify/{code}"


def _qr_svg(url: str) -> str:
    image = qrcode.make(
        url,
        image_factory=qrcode.image.svg.SvgPathImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=0,
    )
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode("ascii")


def _font_faces() -> str:
    directory = Path(settings.DOCUMENTS_FONT_DIR)
    faces = []
    for (weight, style), name in FONT_FILES.items():
        path = directory / name
        if path.exists():
            faces.append(
                "@font-face { font-family: 'Document'; "
                f"src: url('{path.as_uri()}'); font-weight: {weight}; font-style: {style}; }}"
            )
    return "\n".join(faces)


def document_html(content: DocumentContent) -> str:
    context: dict[str, Any] = {
        "document": content,
        "font_faces": _font_faces(),
        "qr": _qr_svg(content.verification_url),
    }
    with translation.override(content.language):
        return render_to_string(f"documents/pdf/{content.kind}.html", context)


def document_pdf(content: DocumentContent) -> bytes:
    """The unsigned PDF (PDF/A-like: fonts embedded, metadata in the document's language)."""
    import weasyprint

    html = document_html(content)
    pdf = weasyprint.HTML(string=html, base_url=str(Path(settings.DOCUMENTS_FONT_DIR))).write_pdf(
        pdf_identifier=content.number.encode("utf-8"), uncompressed_pdf=False
    )
    assert pdf is not None
    return bytes(pdf)
