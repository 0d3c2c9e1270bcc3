"""Crafted PDFs that make pyHanko fail in ways other than its own errors: /verify answers
with the "cannot be read" message and `egov verify` with a clean error, never a 500 or a
traceback."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import structlog
from django.core.management import call_command
from django.core.management.base import CommandError
from pyhanko.pdf_utils.generic import DictionaryObject, NameObject, NumberObject
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from weasyprint import HTML

from egov.documents.models import IssuedDocument

pytestmark = pytest.mark.django_db

UNREADABLE = "The PDF document cannot be read: it is damaged or incomplete."
UNREADABLE_RU = "Документ PDF невозможно прочитать: он повреждён или неполон."


def _pdf(*objects: bytes) -> bytes:
    """A PDF of ``objects`` (1 0 obj is the catalog) with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _signature_value_a_number() -> bytes:
    """A signature field whose value (/V) is the number 5, not a signature dictionary."""
    return _pdf(
        b"<</Type/Catalog/Pages 2 0 R/AcroForm<</Fields[3 0 R]>>>>",
        b"<</Type/Pages/Kids[4 0 R]/Count 1>>",
        b"<</FT/Sig/T(s)/V 5>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 100 100]>>",
    )


def _signed_with_dss_certs_a_number() -> bytes:
    """A document the platform signed, then an incremental update whose catalog has a
    document security store with /Certs 5 instead of an array of streams."""
    from egov.documents.credentials import document_key
    from egov.documents.signing import pdf_sign

    signed = pdf_sign(
        HTML(string="<p>Рашэнне</p>").write_pdf(), key=document_key("agency-mvd-documents")
    ).pdf
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    writer.root[NameObject("/DSS")] = DictionaryObject({NameObject("/Certs"): NumberObject(5)})
    writer.update_root()
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


@pytest.fixture(params=["signature_value_a_number", "dss_certs_a_number"])
def crafted(request, pki) -> bytes:  # type: ignore[no-untyped-def]
    if request.param == "signature_value_a_number":
        return _signature_value_a_number()
    return _signed_with_dss_certs_a_number()


def test_upload_of_a_crafted_pdf_is_refused_as_unreadable(crafted, client):
    documents_before = IssuedDocument.objects.count()
    for language, message in (("en", UNREADABLE), ("ru", UNREADABLE_RU)):
        upload = io.BytesIO(crafted)
        upload.name = "crafted.pdf"
        with structlog.testing.capture_logs() as events:
            answer = client.post(f"/{language}/verify/upload/", {"document": upload})
        assert answer.status_code == 400
        assert message in answer.content.decode()
        unreadable = [e for e in events if e["event"] == "document_verify_unreadable"]
        assert len(unreadable) == 1
        assert unreadable[0]["error"] in {"AttributeError", "TypeError"}
    assert IssuedDocument.objects.count() == documents_before


def test_verify_command_refuses_a_crafted_pdf_without_a_traceback(crafted, tmp_path: Path):
    path = tmp_path / "crafted.pdf"
    path.write_bytes(crafted)
    out = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("verify", str(path), stdout=out)
    assert str(failed.value) == f"{path}: {UNREADABLE}"
    assert failed.value.returncode == 1
    assert out.getvalue() == ""
