"""PAdES B-LT signatures: the signature, an RFC 3161 signature timestamp from the platform's
TSA, and the revocation data (OCSP answers, the CRL) in the document security store, so the
document can be checked years later without asking anyone."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

import structlog
from asgiref.sync import async_to_sync
from asn1crypto import parser as asn1_parser
from cryptography.hazmat.primitives import hashes
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata, PdfSigner

from egov.documents.credentials import (
    CredentialsUnavailable,
    DocumentKey,
    certificate_status,
    signing_validation_context,
    timestamper,
    tsa_certificates,
)

logger = structlog.get_logger(__name__)

FIELD_NAME = "Signature1"


class SigningRefused(CredentialsUnavailable):
    """The key's certificate is revoked, expired or not trusted: nothing is signed."""


@dataclass(frozen=True)
class Signed:
    pdf: bytes
    key: DocumentKey


def pdf_sign(
    pdf: bytes,
    *,
    key: DocumentKey,
    reason: str = "",
    location: str = "",
    at: datetime | None = None,
) -> Signed:
    """Sign ``pdf`` with ``key``; refuses a certificate the platform would not accept now."""
    status = certificate_status(key.certificate, key.chain, at=at)
    if not status.good:
        raise SigningRefused(f"certificate_{status.code}", status.message or status.code)
    issuer = key.chain[0] if key.chain else key.certificate
    tsa, tsa_issuer = tsa_certificates()
    context = signing_validation_context([(key.certificate, issuer), (tsa, tsa_issuer)])
    metadata = PdfSignatureMetadata(
        field_name=FIELD_NAME,
        subfilter=SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        embed_validation_info=True,
        use_pades_lta=False,
        validation_context=context,
        reason=reason or None,
        location=location or None,
    )
    signer = PdfSigner(metadata, signer=key.signer, timestamper=timestamper())
    size_key = (key.certificate.fingerprint(hashes.SHA256()), tsa.fingerprint(hashes.SHA256()))
    reserved = _reserved.get(size_key)
    try:
        output = _signed(signer, pdf, reserved)
    except SigningError:
        if reserved is None:
            raise
        # The signature outgrew what the last one needed: pyHanko sizes it again.
        output = _signed(signer, pdf, None)
        reserved = None
    if reserved is None:
        _reserved[size_key] = _contents_size(output)
    return Signed(pdf=output, key=key)


#: The room a signature of each (key, TSA) needs, from the last one (see _contents_size):
#: pyHanko otherwise sizes every signature by making a whole one first.
_reserved: dict[tuple[bytes, bytes], int] = {}


def _signed(signer: PdfSigner, pdf: bytes, reserved: int | None) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    output = io.BytesIO()
    # The signing runs in asgiref's loop thread while this thread serves the timestamper's
    # database work (see credentials.timestamper).
    async_to_sync(signer.async_sign_pdf)(writer, output=output, bytes_reserved=reserved)
    return output.getvalue()


#: Room kept beyond the last signature's size, in hex digits: its timestamp's serial and
#: time, and the two ECDSA signatures, vary by a few bytes from one signature to the next.
SIZE_MARGIN = 512


def _contents_size(signed: bytes) -> int:
    """The room (pyHanko's ``bytes_reserved``: hex digits) a signature like the last one in
    ``signed`` needs: its CMS structure's length as hex, and :data:`SIZE_MARGIN`. A tight
    fit keeps every validator from reading kilobytes of zero padding."""
    reader = PdfFileReader(io.BytesIO(signed))
    contents = reader.embedded_signatures[-1].pkcs7_content
    _class, _method, _tag, header, body, _trailer = asn1_parser.parse(contents)
    return 2 * (len(header) + len(body)) + SIZE_MARGIN
