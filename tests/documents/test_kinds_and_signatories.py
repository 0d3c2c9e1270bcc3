"""What a service's "issue a signed document" action says is what is issued: the kind
(decision, refusal, extract, receipt) with its own title, the signatory (the agency's seal or
the deciding official's own certificate), and a printed QR code that a phone reads as the
document's public verification address."""

from __future__ import annotations

import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import zxingcpp
from django.db import transaction
from PIL import Image

from egov.cases import services
from egov.core.worker import tasks_run_pending
from egov.documents.models import IssuedDocument
from egov.documents.rendering import verification_url
from egov.documents.services import issue_document
from egov.documents.verification import pdf_verify
from tests.factories import CRIMINAL_RECORD_ANSWERS, OfficialFactory, UserFactory, submitted

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not Path("/usr/bin/pdftoppm").exists(), reason="poppler-utils is missing"),
]

CRIMINAL = "MVD-NO-CRIMINAL-RECORD"


def _issue(kind: str, signatory: str = "agency", language: str = "ru"):  # type: ignore[no-untyped-def]
    citizen = UserFactory(language=language)
    application = submitted(CRIMINAL, citizen, CRIMINAL_RECORD_ANSWERS)
    clerk = OfficialFactory(official_role="clerk")
    services.case_claim(actor=clerk, application_id=application.pk)
    with transaction.atomic():
        issue_document(
            application=application,
            action={"type": "issue_document", "kind": kind, "signatory": signatory},
            actor=clerk,
        )
    tasks_run_pending()
    document = IssuedDocument.objects.get(application=application, kind=kind)
    assert document.status == "signed", document.last_error
    with document.file.open("rb") as handle:
        return document, handle.read(), clerk


def _text(pdf: bytes) -> str:
    return subprocess.run(
        ["/usr/bin/pdftotext", "-", "-"], input=pdf, capture_output=True, check=True, timeout=60
    ).stdout.decode()


def test_an_official_signatory_signs_with_the_deciding_officials_own_certificate(pki):
    document, pdf, clerk = _issue("decision", signatory="official")
    report = pdf_verify(pdf)
    assert report.valid, report.problems
    assert report.signer_name == clerk.full_name
    assert report.organisation == document.application.agency.name
    assert document.signatory == "official" and document.signatory_name == clerk.full_name

    _agency_document, agency_pdf, _clerk = _issue("decision", signatory="agency")
    agency_report = pdf_verify(agency_pdf)
    assert agency_report.valid and agency_report.signer_name == "MVD documents"
    assert agency_report.signer_fingerprint != report.signer_fingerprint


@pytest.mark.parametrize(
    ("kind", "language", "title"),
    [("extract", "ru", "ВЫПИСКА"), ("receipt", "be", "РАСПІСКА"), ("extract", "en", "EXTRACT")],
)
def test_extracts_and_receipts_are_signed_documents_with_their_own_title(
    pki, kind, language, title
):
    document, pdf, _clerk = _issue(kind, language=language)
    assert document.kind == kind and document.language == language
    assert pdf_verify(pdf).valid
    text = _text(pdf)
    assert title in text, text
    assert document.number in text


def test_the_printed_qr_code_reads_as_the_documents_verification_address(pki, client, tmp_path):
    document, pdf, _clerk = _issue("decision")
    source = tmp_path / "document.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        [
            "/usr/bin/pdftoppm",
            "-png",
            "-r",
            "150",
            "-f",
            "1",
            "-l",
            "1",
            str(source),
            str(tmp_path / "page"),
        ],
        check=True,
        timeout=60,
    )
    (page,) = tmp_path.glob("page*.png")
    codes = zxingcpp.read_barcodes(Image.open(page))
    assert [code.format.name for code in codes] == ["QRCode"]
    address = codes[0].text
    assert address == verification_url(document.verification_code)

    answer = client.get(urlsplit(address).path, follow=True)
    assert answer.status_code == 200
    assert document.number in answer.content.decode()
