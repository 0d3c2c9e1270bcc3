"""Only a certificate made for signing documents makes a valid document: the platform's
other certificates (a gateway's, the timestamp authority's) sign nothing a reader should
take for a decision of the state. And the report is in the reader's language wherever the
check runs."""

from __future__ import annotations

import asyncio

import pytest
from django.utils import translation
from weasyprint import HTML

from egov.documents import signing
from egov.documents.credentials import CertificateStatus, document_key
from egov.documents.signing import SigningRefused, pdf_sign
from egov.documents.verification import pdf_verify
from egov.trust.pki import certificate_issue

pytestmark = pytest.mark.django_db


def _pdf() -> bytes:
    return bytes(HTML(string="<p>Рашэнне</p>").write_pdf())


@pytest.mark.parametrize("profile", ["gateway-signing", "tsa"])
def test_a_pdf_signed_with_another_platform_key_is_not_a_valid_document(pki, monkeypatch, profile):
    name = f"not-documents-{profile}"
    certificate_issue(
        directory=pki, profile=profile, common_name=f"GW {profile}", organization="X", name=name
    )
    key = document_key(name)
    with pytest.raises(SigningRefused) as refused:
        pdf_sign(_pdf(), key=key)  # the platform itself refuses to sign with it
    assert refused.value.code == "certificate_wrong_usage"

    # Someone holding that key signs anyway, with a timestamp of the platform's TSA.
    monkeypatch.setattr(
        signing, "certificate_status", lambda *args, **kwargs: CertificateStatus(True, "valid")
    )
    signed = pdf_sign(_pdf(), key=key).pdf
    monkeypatch.undo()
    report = pdf_verify(signed)
    assert report.intact and report.timestamped
    assert not report.valid
    assert "The signer's certificate is not one for signing documents." in report.problems


def test_the_report_is_in_the_readers_language_inside_an_event_loop(pki):
    """pyHanko's validator runs in a thread of its own when an event loop runs (an ASGI
    server): the messages it writes are still in the language of the page."""
    key = document_key("agency-mvd-documents")
    signed = bytearray(pdf_sign(_pdf(), key=key).pdf)
    position = signed.index(b"/Type /Page") + 2 if b"/Type /Page" in signed else 20
    signed[position] = ord("X")

    async def in_a_loop() -> list[str]:
        with translation.override("ru"):
            return pdf_verify(bytes(signed)).problems

    problems = asyncio.run(in_a_loop())
    with translation.override("ru"):
        changed = translation.gettext("The document was changed after it was signed.")
    assert changed != "The document was changed after it was signed."
    assert changed in problems, problems
