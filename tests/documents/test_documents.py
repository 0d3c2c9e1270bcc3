"""Signed documents end to end: issued with a decision, accepted by outside validators
(pyHanko's, poppler's pdfsig), a one-byte change caught everywhere, verified on /verify and
by `egov verify`, downloaded only by those allowed."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.hashes import SHA256
from django.core.management import call_command
from django.core.management.base import CommandError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore
from weasyprint import HTML

from egov.audit.models import Entry
from egov.cases import services
from egov.cases.models import Application
from egov.catalog.models import Agency
from egov.core.worker import tasks_run_pending
from egov.documents.credentials import asn1_certificate
from egov.documents.models import IssuedDocument
from egov.documents.services import DocumentCannotBeSigned
from egov.notifications.models import Message
from egov.trust.pki import ca_certificates, certificate_current, certificate_revoke
from tests.documents.conftest import pki_make
from tests.factories import (
    CRIMINAL_RECORD_ANSWERS,
    OfficialFactory,
    UserFactory,
    login,
    submitted,
)

pytestmark = pytest.mark.django_db

CRIMINAL = "MVD-NO-CRIMINAL-RECORD"
PDFSIG = "/usr/bin/pdfsig"


def _decide(approve: bool = True):  # type: ignore[no-untyped-def]
    citizen = UserFactory(language="ru")
    application = submitted(CRIMINAL, citizen, CRIMINAL_RECORD_ANSWERS)
    clerk = OfficialFactory(official_role="clerk")
    services.case_claim(actor=clerk, application_id=application.pk)
    services.transition_fire(
        application_id=application.pk,
        transition_code="approve" if approve else "refuse",
        actor=clerk,
        comment="Справка выдана." if approve else "Не представлены документы.",
    )
    return application, citizen, clerk


@pytest.fixture
def issued(pki):  # type: ignore[no-untyped-def]
    application, citizen, clerk = _decide()
    tasks_run_pending()
    document = IssuedDocument.objects.get(application=application)
    assert document.status == "signed", document.last_error
    with document.file.open("rb") as handle:
        pdf = handle.read()
    return document, pdf, citizen, clerk


def _tampered(pdf: bytes) -> bytes:
    """One byte changed inside the signed range: in the page content of the first revision."""
    position = pdf.index(b"/Type /Page") + 2 if b"/Type /Page" in pdf else pdf.index(b"/Type/Page")
    changed = bytearray(pdf)
    changed[position] = ord("X") if changed[position] != ord("X") else ord("Y")
    return bytes(changed)


def _pyhanko_status(pdf: bytes, root):  # type: ignore[no-untyped-def]
    reader = PdfFileReader(io.BytesIO(pdf))
    dss = DocumentSecurityStore.read_dss(reader)
    settings = {"trust_roots": [root], "allow_fetching": False, "revocation_mode": "hard-fail"}
    return validate_pdf_signature(
        reader.embedded_signatures[0],
        signer_validation_context=dss.as_validation_context(settings),
        ts_validation_context=dss.as_validation_context(settings),
    )


def _pdfsig(pdf: bytes, tmp_path: Path, pki: Path) -> str:
    nss = tmp_path / "nss"
    nss.mkdir(exist_ok=True)
    if not (nss / "cert9.db").exists():
        subprocess.run(
            ["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True, timeout=30
        )
        subprocess.run(
            [
                "certutil",
                "-A",
                "-d",
                f"sql:{nss}",
                "-n",
                "egov-root",
                "-t",
                "CT,C,C",
                "-i",
                str(pki / "root.cert.pem"),
            ],
            check=True,
            timeout=30,
        )
    path = tmp_path / "document.pdf"
    path.write_bytes(pdf)
    # NSS asks the certificates' OCSP address (conftest's responder on 127.0.0.1), as it
    # would in production. Not -no-ocsp: poppler 22.12 reads NSS's last error code even
    # when the chain verified, and with OCSP off a leftover "extension not found" from the
    # CRL lookup turns a trusted chain into "Unknown issue with Certificate".
    result = subprocess.run(
        [PDFSIG, "-nssdir", f"sql:{nss}", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.stdout + result.stderr


def test_outside_validators_accept_the_document_and_catch_a_changed_byte(issued, pki, tmp_path):
    document, pdf, _citizen, _clerk = issued
    root = asn1_certificate(ca_certificates(directory=pki)[0])

    status = _pyhanko_status(pdf, root)
    assert status.bottom_line, status.pretty_print_details()
    assert status.intact and status.valid and status.trusted
    assert status.timestamp_validity is not None and status.timestamp_validity.trusted
    assert status.timestamp_validity.signing_cert.subject.native["common_name"] == "egov tsa"
    assert status.signing_cert.subject.native["common_name"] == "MVD documents"
    # The revocation data pyHanko validated against came from the document alone (LTV).
    dss = DocumentSecurityStore.read_dss(PdfFileReader(io.BytesIO(pdf)))
    assert len(list(dss.ocsps)) >= 2 and len(list(dss.crls)) >= 1

    output = _pdfsig(pdf, tmp_path, pki)
    assert "Signature Validation: Signature is Valid." in output, output
    assert "Certificate Validation: Certificate is Trusted." in output, output
    assert "ETSI.CAdES.detached" in output

    changed = _tampered(pdf)
    assert not _pyhanko_status(changed, root).intact
    assert "Signature Validation: Digest Mismatch." in _pdfsig(changed, tmp_path, pki)

    original = tmp_path / "original.pdf"
    original.write_bytes(pdf)
    out = io.StringIO()
    call_command("verify", str(original), stdout=out)
    assert "VALID" in out.getvalue()
    assert f"document: {document.number} (decision)" in out.getvalue()
    assert "signer: MVD documents" in out.getvalue()
    bad = tmp_path / "changed.pdf"
    bad.write_bytes(changed)
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify", str(bad), stdout=out)
    assert exit_info.value.code == 1
    assert "NOT VALID" in out.getvalue()


def test_document_records_signer_ledger_entry_and_notification(issued):
    document, pdf, citizen, clerk = issued
    assert document.number.startswith("MVD-") and "-D" in document.number
    assert len(document.verification_code) == 16
    assert document.signatory_name == clerk.full_name
    assert document.language == "ru"
    assert document.size == len(pdf)
    entry = Entry.objects.get(kind="document.signed")
    assert entry.data["number"] == document.number
    assert entry.data["sha256"] == document.sha256
    assert entry.actor_user_id == clerk.pk
    message = Message.objects.get(recipient=citizen, template="document_issued")
    assert document.number not in message.body  # nothing of the document in the email
    assert message.reference == document.application.number


def test_verify_page_by_code_and_by_upload(issued, client, settings):
    document, pdf, _citizen, _clerk = issued
    page = client.get(f"/en/verify/{document.verification_code}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "The signature is valid" in body and document.number in body
    assert document.application.applicant.personal_number not in body
    typed = client.post("/en/verify/", {"code": document.code_display.lower()})
    assert typed.status_code == 302 and typed["Location"].endswith(
        f"/{document.verification_code}/"
    )
    download = client.get(f"/en/verify/{document.verification_code}/pdf/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == pdf

    upload = client.post("/en/verify/upload/", {"document": io.BytesIO(pdf)})
    assert upload.status_code == 200
    assert "The signature is valid" in upload.content.decode()
    changed = io.BytesIO(_tampered(pdf))
    changed.name = "changed.pdf"
    refused = client.post("/en/verify/upload/", {"document": changed})
    assert refused.status_code == 200
    assert "The document was changed after it was signed." in refused.content.decode()

    for data, message in (
        (b"hello, this is text", "The file is not a PDF document."),
        (b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "cannot be read"),
        (HTML(string="<p>Not signed</p>").write_pdf(), "carries no signature"),
    ):
        bad = io.BytesIO(data)
        bad.name = "x.pdf"
        answer = client.post("/en/verify/upload/", {"document": bad})
        assert answer.status_code == 400
        assert message in answer.content.decode()
    settings.DOCUMENTS_VERIFY_MAX_BYTES = 1024
    big = io.BytesIO(pdf)
    big.name = "big.pdf"
    answer = client.post("/en/verify/upload/", {"document": big})
    assert answer.status_code == 400 and "larger than" in answer.content.decode()
    assert client.post("/en/verify/upload/", {}).status_code == 400

    assert client.get("/en/verify/0000000000000000/").status_code == 404
    assert client.post("/en/verify/", {"code": "nonsense"}).status_code == 400
    russian = client.post("/ru/verify/", {"code": "nonsense"})
    assert "Введите" in russian.content.decode() or russian.status_code == 400


def test_only_the_applicant_and_the_agency_download(issued, client):
    document, pdf, citizen, clerk = issued
    number = document.application.number
    cabinet = f"/en/my-account/applications/{number}/documents/{document.pk}/"
    office = f"/en/office/cases/{number}/documents/{document.pk}/"

    assert client.get(cabinet).status_code == 302  # anonymous: to the login
    login(client, UserFactory())
    assert client.get(cabinet).status_code == 404
    login(client, OfficialFactory(agency=Agency.objects.get(code="MGI")))
    assert client.get(office).status_code == 404
    login(client, citizen)
    page = client.get(f"/en/my-account/applications/{number}/")
    assert document.number in page.content.decode()
    answer = client.get(cabinet)
    assert answer.status_code == 200 and b"".join(answer.streaming_content) == pdf
    assert answer["Content-Type"] == "application/pdf"
    assert client.get(f"/en/my-account/applications/{number}/documents/999999/").status_code == 404
    login(client, clerk)
    answer = client.get(office)
    assert answer.status_code == 200 and b"".join(answer.streaming_content) == pdf


def test_documents_get_writes_the_pdf_by_its_code(issued, tmp_path):
    document, pdf, _citizen, _clerk = issued
    target = tmp_path / "out.pdf"
    call_command("documents", "get", document.code_display, str(target), stdout=io.StringIO())
    assert target.read_bytes() == pdf
    with pytest.raises(CommandError):
        call_command("documents", "get", "0000-0000-0000-0000", str(target))


def test_revoked_signing_certificate_refuses_the_decision(tmp_path, settings, ocsp_base_url):
    directory = pki_make(tmp_path / "pki", ocsp_base_url)
    settings.PKI_DIR = directory
    settings.PKI_PKCS11_KEYS = []
    agency_certificate = certificate_current(directory=directory, name="agency-mvd-documents")
    assert agency_certificate is not None
    certificate_revoke(
        directory=directory, serial=agency_certificate.serial, reason="key_compromise"
    )
    citizen = UserFactory()
    application = submitted(CRIMINAL, citizen, CRIMINAL_RECORD_ANSWERS)
    clerk = OfficialFactory(official_role="clerk")
    services.case_claim(actor=clerk, application_id=application.pk)
    with pytest.raises(DocumentCannotBeSigned) as refused:
        services.transition_fire(
            application_id=application.pk, transition_code="approve", actor=clerk
        )
    assert "revoked" in str(refused.value)
    application.refresh_from_db()
    assert application.state == "in_review"
    assert not Application.objects.get(pk=application.pk).decided_at
    assert not IssuedDocument.objects.filter(application=application).exists()


def test_refusal_document_carries_the_reasons(pki):
    application, _citizen, _clerk = _decide(approve=False)
    tasks_run_pending()
    document = IssuedDocument.objects.get(application=application)
    assert document.kind == "refusal" and document.status == "signed"


def _plain_pdf() -> bytes:
    return HTML(string="<p>Рашэнне</p>").write_pdf()


def test_a_key_revoked_after_it_signed_is_refused_at_once(tmp_path, settings, ocsp_base_url):
    """Signing keeps a certificate's status and its OCSP answers for a while; revoking it
    is seen by the very next signature all the same."""
    from egov.documents.credentials import document_key
    from egov.documents.signing import SigningRefused, pdf_sign
    from egov.documents.verification import pdf_verify

    directory = pki_make(tmp_path / "pki", ocsp_base_url)
    settings.PKI_DIR = directory
    settings.PKI_PKCS11_KEYS = []
    key = document_key("agency-mvd-documents")
    assert pdf_verify(pdf_sign(_plain_pdf(), key=key).pdf).valid
    assert pdf_verify(pdf_sign(_plain_pdf(), key=key).pdf).valid
    certificate_revoke(
        directory=directory, serial=key.certificate.serial_number, reason="superseded"
    )
    with pytest.raises(SigningRefused) as refused:
        pdf_sign(_plain_pdf(), key=key)
    assert "revoked" in str(refused.value.code)


def test_a_signature_larger_than_the_last_is_sized_again(pki):
    """The space kept for a signature is the last one's; one that no longer fits (a longer
    chain, a larger timestamp) is signed again with pyHanko's own estimate."""
    from egov.documents import signing
    from egov.documents.credentials import document_key
    from egov.documents.verification import pdf_verify

    key = document_key("agency-mgi-documents")
    first = signing.pdf_sign(_plain_pdf(), key=key).pdf
    [size_key] = [k for k in signing._reserved if k[0] == key.certificate.fingerprint(SHA256())]
    assert signing._reserved[size_key] == signing._contents_size(first)
    signing._reserved[size_key] = 1000  # far too small
    second = signing.pdf_sign(_plain_pdf(), key=key).pdf
    assert pdf_verify(second).valid
    assert signing._reserved[size_key] == signing._contents_size(second) > 1000


def test_an_expired_signing_certificate_signs_nothing(pki):
    """A document key whose certificate has expired is refused before anything is signed."""
    from asn1crypto import keys as asn1_keys
    from cryptography.hazmat.primitives import serialization
    from pyhanko.sign.signers import SimpleSigner
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    from egov.documents.credentials import DocumentKey, document_key
    from egov.documents.signing import SigningRefused, pdf_sign
    from tests.trust.pki_fixtures import expired_copy

    valid = document_key("agency-mvd-documents")
    key, certificate = expired_copy(pki, valid.certificate)
    signer = SimpleSigner(
        signing_cert=asn1_certificate(certificate),
        signing_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
        cert_registry=SimpleCertificateStore.from_certs(
            [asn1_certificate(item) for item in valid.chain]
        ),
    )
    expired = DocumentKey(name="expired", certificate=certificate, chain=valid.chain, signer=signer)
    with pytest.raises(SigningRefused) as refused:
        pdf_sign(_plain_pdf(), key=expired)
    assert refused.value.code == "certificate_expired"


@pytest.mark.skipif(not Path("/usr/bin/pdftotext").exists(), reason="poppler-utils is missing")
@pytest.mark.parametrize(
    "code",
    # Codes whose text read back from the PDF had a space in it while the code was
    # letter-spaced (one in seven did): a person copying it got another code.
    ["NQFA-FZ95-XSRC-62YN", "2RYC-ST16-238S-JNCR", "W4PS-725P-W99C-2303", "8CHV-AZDC-5YYH-HCRE"],
)
def test_the_verification_code_reads_back_from_the_document_as_printed(code):
    from django.utils import timezone

    from egov.documents.rendering import DocumentContent, document_pdf, verification_url

    now = timezone.now()
    pdf = document_pdf(
        DocumentContent(
            kind="decision",
            language="be",
            number="MGI-2026-D000004",
            issued_on=now,
            agency_name="Мінгарвыканкам",
            agency_address="Мінск",
            applicant_name="Ганна Мароз",
            on_behalf_unp="",
            application_number="MGI-2026-000001",
            submitted_at=now,
            service_name="Даведка",
            decision_text="Рашэнне прынята.",
            signatory_name="Жук Таццяна Міхайлаўна",
            signatory_role="Упаўнаважаная асоба",
            verification_url=verification_url(code.replace("-", "")),
            code_display=code,
        )
    )
    text = subprocess.run(
        ["/usr/bin/pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert f": {code}" in text, text
