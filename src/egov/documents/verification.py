"""Checking a signed PDF: pyHanko's validator with the platform root as the only trust
anchor and the revocation data the document carries (no fetching), then the certificate's
status in the platform's PKI at signing time and now.

A document is valid when its signature is intact, covers the whole file but for the
signature's own maintenance updates (the DSS), chains to the platform root, carries a valid
signature timestamp, and its certificate was good when the timestamp says it was signed.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from django.utils import translation
from django.utils.translation import gettext as _
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import SignatureCoverageLevel, validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.errors import NoDSSFoundError

from egov.documents.credentials import (
    CertificateStatus,
    asn1_certificate,
    certificate_status,
    platform_roots,
)

logger = structlog.get_logger(__name__)

PDF_MAGIC = b"%PDF-"


class VerificationFailed(Exception):
    """The file cannot be checked at all: ``code`` is stable, the message translated."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Report:
    valid: bool
    intact: bool
    trusted: bool
    covers_whole: bool
    timestamped: bool
    long_term: bool
    signer_name: str
    organisation: str
    signer_fingerprint: str
    signing_time: datetime | None
    timestamp_time: datetime | None
    timestamp_authority: str
    status_at_signing: CertificateStatus
    status_now: CertificateStatus
    sha256: str
    problems: list[str] = field(default_factory=list)

    def facts(self) -> dict[str, Any]:
        """The same facts as plain values (for `egov verify --json` and the logs)."""
        return {
            "valid": self.valid,
            "intact": self.intact,
            "trusted": self.trusted,
            "covers_whole_document": self.covers_whole,
            "timestamped": self.timestamped,
            "long_term_validation_data": self.long_term,
            "signer": self.signer_name,
            "organisation": self.organisation,
            "signer_fingerprint": self.signer_fingerprint,
            "signing_time": self.signing_time.isoformat() if self.signing_time else None,
            "timestamp_time": self.timestamp_time.isoformat() if self.timestamp_time else None,
            "timestamp_authority": self.timestamp_authority,
            "certificate_at_signing": self.status_at_signing.code,
            "certificate_now": self.status_now.code,
            "sha256": self.sha256,
            "problems": list(self.problems),
        }


def _name_part(name: asn1_x509.Name, key: str) -> str:
    value = name.native.get(key, "")
    return ", ".join(value) if isinstance(value, list) else str(value or "")


def _cryptography(certificate: asn1_x509.Certificate) -> x509.Certificate:
    return x509.load_der_x509_certificate(certificate.dump())


def _run(function: Any, *args: Any, **kwargs: Any) -> Any:
    """pyHanko's validator runs its own event loop: in a thread when one is running here,
    in the language of this one (the messages it writes are the reader's)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function(*args, **kwargs)
    outcome: dict[str, Any] = {}
    language = translation.get_language()

    def target() -> None:
        try:
            with translation.override(language):
                outcome["value"] = function(*args, **kwargs)
        except BaseException as error:  # handed back to the caller's thread
            outcome["error"] = error

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _unreadable(error: Exception) -> VerificationFailed:
    logger.info("document_verify_unreadable", error=type(error).__name__)
    return VerificationFailed(
        "unreadable", _("The PDF document cannot be read: it is damaged or incomplete.")
    )


def pdf_verify(data: bytes) -> Report:
    """Check the (first) signature of a PDF. Raises :class:`VerificationFailed` for a file that
    is not a PDF or carries no signature."""
    if not data.lstrip()[:1024].startswith(PDF_MAGIC) and PDF_MAGIC not in data[:1024]:
        raise VerificationFailed("not_a_pdf", _("The file is not a PDF document."))
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
    except Exception as error:
        # Not only PdfError: on a crafted object (a signature field whose /V is a number)
        # pyHanko fails with whatever Python error the wrong type leads to (AttributeError,
        # AssertionError, TypeError...). Any of them means the file cannot be read.
        raise _unreadable(error) from None
    if not signatures:
        raise VerificationFailed("no_signature", _("The PDF document carries no signature."))
    return _run(_verify, reader, signatures[0], data)


def _verify(reader: PdfFileReader, signature: Any, data: bytes) -> Report:
    roots = [asn1_certificate(root) for root in platform_roots()]
    settings: dict[str, Any] = {
        "trust_roots": roots,
        "allow_fetching": False,
        "revocation_mode": "hard-fail",
        "retroactive_revinfo": True,
    }
    long_term = True
    try:
        dss = DocumentSecurityStore.read_dss(reader)
        context = dss.as_validation_context(settings)
    except NoDSSFoundError:
        from pyhanko_certvalidator import ValidationContext

        long_term = False
        settings["revocation_mode"] = "soft-fail"
        context = ValidationContext(**settings)
    except Exception as error:  # a crafted store (/Certs 5): as for the signatures above
        raise _unreadable(error) from None
    try:
        # One context for the signer and the timestamp (pyHanko's default): both read the
        # same document security store, which is what building a context costs.
        status = validate_pdf_signature(signature, signer_validation_context=context)
    except Exception as error:  # a signature pyHanko cannot even parse is not valid
        logger.info("document_verify_failed", error=type(error).__name__)
        raise VerificationFailed(
            "unreadable_signature", _("The signature in the PDF document cannot be read.")
        ) from None

    problems: list[str] = []
    signer = status.signing_cert
    certificate = _cryptography(signer)
    chain = [
        _cryptography(item)
        for item in (list(status.validation_path)[1:-1] if status.validation_path else [])
    ]
    chain.reverse()
    timestamp = status.timestamp_validity
    timestamp_time = timestamp.timestamp if timestamp is not None else None
    timestamped = bool(timestamp is not None and timestamp.valid and timestamp.trusted)
    covers_whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE or (
        status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
        and status.modification_level is not None
        and status.modification_level <= ModificationLevel.LTA_UPDATES
    )
    at_signing = certificate_status(
        certificate, chain, at=timestamp_time or status.signer_reported_dt
    )
    now = certificate_status(certificate, chain)
    if not status.intact or not status.valid:
        problems.append(_("The document was changed after it was signed."))
    elif not covers_whole:
        problems.append(_("Something was added to the document after it was signed."))
    if not status.trusted:
        problems.append(_("The signer's certificate was not issued by this platform."))
    if not timestamped:
        problems.append(_("The signature has no valid timestamp."))
    if at_signing.code == "wrong_usage":
        # A certificate of the platform, but not one for signing documents (a gateway's,
        # the timestamp authority's): its signature makes no document of the state.
        problems.append(_("The signer's certificate is not one for signing documents."))
    elif not at_signing.good:
        problems.append(_("The signer's certificate was not valid when the document was signed."))
    report = Report(
        valid=not problems,
        intact=bool(status.intact and status.valid),
        trusted=bool(status.trusted),
        covers_whole=covers_whole,
        timestamped=timestamped,
        long_term=long_term,
        signer_name=_name_part(signer.subject, "common_name"),
        organisation=_name_part(signer.subject, "organization_name"),
        signer_fingerprint=hashlib.sha256(signer.dump()).hexdigest(),
        signing_time=status.signer_reported_dt,
        timestamp_time=timestamp_time,
        timestamp_authority=_name_part(timestamp.signing_cert.subject, "common_name")
        if timestamp is not None
        else "",
        status_at_signing=at_signing,
        status_now=now,
        sha256=hashlib.sha256(data).hexdigest(),
        problems=problems,
    )
    logger.info("document_verified", valid=report.valid, sha256=report.sha256)
    return report
