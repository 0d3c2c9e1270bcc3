"""Where a document's signing key, its timestamp and its revocation data come from.

Everything is asked of the platform's trust services in this process (ADR 0010): the key
through ``egov.trust.keys.signing_key`` (a file or a PKCS#11 token), the timestamp from
``egov.trust.tsa.local_timestamper`` and the OCSP answers from the responder's own code, so
signing never calls the platform's own web server.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from django.conf import settings
from pyhanko.sign.signers import Signer
from pyhanko.sign.timestamps import TimeStamper
from pyhanko_certvalidator import ValidationContext

from egov.trust.pki import (
    PkiError,
    ca_certificates,
    certificate_current,
    certificates_list,
    index_version,
    load_certificates,
)


class CredentialsUnavailable(Exception):
    """No usable key or certificate: ``code`` says why (stable, logged, shown to officials)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.code = code


def _der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def asn1_certificate(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(_der(certificate))


def pki_directory() -> Path:
    return Path(settings.PKI_DIR)


@dataclass(frozen=True)
class DocumentKey:
    """A loaded signing key: its certificate, the CA certificates above it (issuing CA
    first) and pyHanko's signer for it."""

    name: str
    certificate: x509.Certificate
    chain: list[x509.Certificate]
    signer: Signer


def document_key(name: str) -> DocumentKey:
    """The key called ``name``, wherever it is kept (a file or the PKCS#11 token)."""
    from egov.trust.keys import SigningKeyMissing, signing_key

    try:
        key = signing_key(name)
    except (SigningKeyMissing, PkiError, OSError) as error:
        raise CredentialsUnavailable("no_certificate", str(error)) from None
    except ValueError as error:  # an encrypted key without its passphrase, a damaged file
        raise CredentialsUnavailable("key_unreadable", str(error)) from None
    return DocumentKey(
        name=name, certificate=key.certificate, chain=list(key.chain), signer=key.pyhanko_signer()
    )


def official_key_name(username: str) -> str:
    from egov.trust.setup import official_name

    return official_name(username)


def official_certificate_ensure(*, username: str, full_name: str, organisation: str) -> None:
    """Issue the official's own signing certificate the first time they sign. A revoked or
    expired certificate is not replaced here: renewing is an operator's decision."""
    from egov.trust.setup import platform_certificate_issue

    name = official_key_name(username)
    if any(entry["name"] == name for entry in certificates_list(directory=pki_directory())):
        return
    platform_certificate_issue(
        profile="official-signing",
        name=name,
        common_name=full_name or username,
        organization=organisation,
        pkcs11=name in settings.PKI_PKCS11_KEYS,
    )


def timestamper() -> TimeStamper:
    from egov.trust.tsa import local_timestamper

    return local_timestamper()


@dataclass(frozen=True)
class CertificateStatus:
    good: bool
    #: The validation's reason code: ``valid``, ``revoked``, ``expired``, ``untrusted``, ...
    code: str
    #: Translated, for a person.
    message: str = ""
    revoked_at: datetime | None = None


def certificate_status(
    certificate: x509.Certificate, chain: list[x509.Certificate], *, at: datetime | None = None
) -> CertificateStatus:
    """Whether the platform considers the certificate good for documents at ``at`` (now by
    default): the chain to the platform root, validity, key usage and revocation, asked of
    the OCSP responder's own code."""
    from egov.trust.validation import validate_certificate

    result = validate_certificate(certificate, chain, purpose="document", at=at)
    return CertificateStatus(
        good=result.valid, code=result.reason, message=result.message, revoked_at=result.revoked_at
    )


#: OCSP answers and the CRL put into documents are reused for this long (as a web server
#: staples one OCSP answer to many connections); a change in the PKI's index (a revocation)
#: makes new ones at once.
REVOCATION_DATA_SECONDS = 60.0
_revocation_data: dict[tuple[object, ...], tuple[float, bytes]] = {}
_revocation_lock = threading.Lock()


def _kept(key: tuple[object, ...], make: Callable[[], bytes]) -> bytes:
    now = time.monotonic()
    with _revocation_lock:
        found = _revocation_data.get(key)
    if found is not None and found[0] > now:
        return found[1]
    value = make()
    with _revocation_lock:
        if len(_revocation_data) > 256:
            _revocation_data.clear()
        _revocation_data[key] = (now + REVOCATION_DATA_SECONDS, value)
    return value


def _ocsp_der(certificate: x509.Certificate, issuer: x509.Certificate) -> bytes:
    from egov.trust.ocsp import ocsp_request, ocsp_response

    def make() -> bytes:
        response = ocsp_response(ocsp_request(certificate, issuer))
        if ocsp.load_der_ocsp_response(response).response_status is not (
            ocsp.OCSPResponseStatus.SUCCESSFUL
        ):
            raise CredentialsUnavailable("ocsp_unavailable", "the OCSP responder cannot answer")
        return response

    key = (
        "ocsp",
        certificate.fingerprint(hashes.SHA256()),
        issuer.fingerprint(hashes.SHA256()),
        index_version(directory=pki_directory()),
    )
    return _kept(key, make)


def _crl_der() -> bytes:
    path = pki_directory() / "crl.pem"

    def make() -> bytes:
        return x509.load_pem_x509_crl(path.read_bytes()).public_bytes(serialization.Encoding.DER)

    stat = path.stat()
    return _kept(("crl", str(path), stat.st_mtime_ns, stat.st_ino, stat.st_size), make)


def platform_roots() -> list[x509.Certificate]:
    """The trust anchor: the platform's root CA (the issuing CA is an intermediate)."""
    return ca_certificates(directory=pki_directory())[:1]


def signing_validation_context(
    certificates: list[tuple[x509.Certificate, x509.Certificate]],
) -> ValidationContext:
    """A validation context for signing: the platform root as the only trust anchor, the
    OCSP answers for each (certificate, issuer) pair and the CRL given directly, nothing
    fetched. pyHanko embeds what it used in the document's DSS (PAdES B-LT).

    The same context serves this thread's signatures with the same certificates for as long
    as their revocation data is kept (:data:`REVOCATION_DATA_SECONDS`, and no change in the
    PKI's index): pyHanko then validates each path once, not for every document."""
    crl_path = pki_directory() / "crl.pem"
    crl_stat = crl_path.stat()
    key = (
        tuple(
            (certificate.fingerprint(hashes.SHA256()), issuer.fingerprint(hashes.SHA256()))
            for certificate, issuer in certificates
        ),
        index_version(directory=pki_directory()),
        (crl_stat.st_mtime_ns, crl_stat.st_ino, crl_stat.st_size),
    )
    kept = getattr(_contexts, "kept", None)
    now = time.monotonic()
    if kept is not None and kept[0] == key and kept[1] > now:
        return kept[2]
    root, issuing = ca_certificates(directory=pki_directory())
    ocsps = [
        asn1_ocsp.OCSPResponse.load(_ocsp_der(certificate, issuer))
        for certificate, issuer in certificates
    ]
    context = ValidationContext(
        trust_roots=[asn1_certificate(root)],
        other_certs=[asn1_certificate(issuing)],
        ocsps=ocsps,
        crls=[asn1_crl.CertificateList.load(_crl_der())],
        allow_fetching=False,
        revocation_mode="hard-fail",
    )
    _contexts.kept = (key, now + REVOCATION_DATA_SECONDS, context)
    return context


#: Each thread's last signing context (pyHanko's contexts are not shared between threads).
_contexts = threading.local()


def tsa_certificates() -> tuple[x509.Certificate, x509.Certificate]:
    """The timestamp authority's certificate and its issuer."""
    issued = certificate_current(directory=pki_directory(), name="tsa")
    if issued is None:
        raise CredentialsUnavailable("no_tsa", "no current `tsa` certificate")
    chain = load_certificates(issued.chain_path)
    return chain[0], chain[1]
