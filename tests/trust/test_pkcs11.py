"""Keys in a real PKCS#11 token (SoftHSM2 in a folder of its own): `egov pki issue --pkcs11`
makes the key pair in the token, the certificate is for its public key, and signing_key()
signs through the token (raw and with pyHanko)."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command

from egov.trust import keys
from egov.trust.keys import Pkcs11SigningKey, signing_key
from egov.trust.pki import certificates_list, load_certificate, verify
from tests.trust.signer_support import softhsm_token

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN = "egov-test"
PIN = "1234"

pytestmark = [
    pytest.mark.skipif(
        not Path(MODULE).exists(), reason=f"SoftHSM2 is not installed ({MODULE} is missing)"
    ),
    pytest.mark.django_db,
]


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("softhsm")
    config = softhsm_token(folder, label=TOKEN, pin=PIN, env=dict(os.environ))
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(config)
    yield folder
    keys.pkcs11_sessions_close()
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous


@pytest.fixture
def in_token(token, pki, settings):  # type: ignore[no-untyped-def]
    settings.PKI_PKCS11_MODULE = MODULE
    settings.PKI_PKCS11_TOKEN = TOKEN
    settings.PKI_PKCS11_PIN = PIN
    settings.PKI_PKCS11_KEYS = ["agency-hsm-documents"]
    return pki


def test_issue_in_the_token_and_sign_through_it(in_token):
    output = io.StringIO()
    call_command(
        "pki",
        "issue",
        "--pkcs11",
        "--profile",
        "document-signing",
        "--name",
        "agency-hsm-documents",
        "--cn",
        "HSM agency",
        "--org",
        "HSM agency",
        stdout=output,
    )
    assert "in the PKCS#11 token" in output.getvalue()
    issued = in_token / "issued"
    assert not (issued / "agency-hsm-documents.key.pem").exists()  # no key file, ever
    certificate = load_certificate(issued / "agency-hsm-documents.cert.pem")
    entry = next(
        e for e in certificates_list(directory=in_token) if e["name"] == "agency-hsm-documents"
    )
    assert entry["key"] == "external"

    key = signing_key("agency-hsm-documents")
    assert isinstance(key, Pkcs11SigningKey)
    assert key.certificate == certificate
    signature = key.sign(b"a decision")
    assert verify(certificate, signature, b"a decision")
    assert not verify(certificate, signature, b"a changed decision")


def test_pyhanko_signs_a_pdf_through_the_token(in_token):
    import threading

    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import signers
    from pyhanko.sign.pkcs11 import PKCS11Signer
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext
    from weasyprint import HTML

    from egov.trust.validation import _asn1

    key = signing_key("agency-hsm-documents")
    signer = key.pyhanko_signer()
    assert isinstance(signer, PKCS11Signer)
    pdf = HTML(string="<p>Decision</p>").write_pdf()
    output = io.BytesIO()
    status: list = []

    def run() -> None:  # pyHanko runs its own event loop: in a thread of its own
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        signers.sign_pdf(
            writer,
            signers.PdfSignatureMetadata(field_name="Signature"),
            signer=signer,
            output=output,
        )
        reader = PdfFileReader(io.BytesIO(output.getvalue()))
        context = ValidationContext(
            trust_roots=[_asn1(key.chain[-1])], other_certs=[_asn1(key.chain[0])]
        )
        status.append(validate_pdf_signature(reader.embedded_signatures[0], context))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert status and status[0].intact and status[0].valid
    assert status[0].signing_cert.dump() == _asn1(key.certificate).dump()


def test_a_label_in_use_in_the_token_is_refused(in_token):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="already holds"):
        call_command(
            "pki",
            "issue",
            "--pkcs11",
            "--profile",
            "document-signing",
            "--name",
            "agency-hsm-documents",
            "--cn",
            "Again",
            stdout=io.StringIO(),
        )
