"""Who signs tree heads, and checking a head's signature offline.

The ledger does not import :mod:`egov.trust` (it sits below it): ``egov.trust`` registers a
signer factory here at start-up (``head_signers.register("ledger")``), one that returns its
``SigningKey`` for the ``ledger`` certificate; ``EGOV_AUDIT_SIGNER`` names which to use.
It registers too how a head's certificate is checked (``head_trust``): a head counts only
when its certificate is the platform's, for the ledger, and was in force when it signed.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from egov.core.plugins import Registry


class HeadSigner(Protocol):
    """What :func:`egov.trust.keys.signing_key` returns: a certificate, its chain and
    ``sign(data) -> DER ECDSA-SHA256``."""

    @property
    def certificate(self) -> Any: ...

    @property
    def chain(self) -> Sequence[Any]: ...

    def sign(self, data: bytes) -> bytes: ...


head_signers: Registry[Callable[[], HeadSigner]] = Registry("tree head signer")

#: The key purpose (extended key usage) a tree head's certificate must carry: egov's own,
#: on the platform's arc (that of the TSA policy's default). No other certificate of the
#: PKI (a person's e-ID, a gateway's, an agency's) can sign a head anyone accepts.
LEDGER_KEY_PURPOSE = "1.3.6.1.4.1.32473.11.2.1"


class HeadTrust(Protocol):
    """What the platform's PKI tells the ledger about the certificates of its tree heads
    (``egov.trust`` registers it as ``platform`` at start-up)."""

    def anchors(self) -> str:
        """PEM of the certificate authorities a head's signer must lead to."""
        ...

    def certificate_problem(self, certificate_pem: str, at: datetime.datetime) -> str | None:
        """Why the certificate could not sign a head at ``at`` (not the platform's, not a
        ledger certificate, expired, revoked by then), or None when it could."""
        ...


head_trust: Registry[HeadTrust] = Registry("tree head trust")


def head_trust_get() -> HeadTrust | None:
    try:
        return head_trust["platform"]
    except KeyError:
        return None


def ledger_purpose_problem(certificate_text: str) -> str | None:
    """Why the certificate is not one for signing tree heads (offline: its key usage and
    extended key usage only), or None."""
    try:
        certificate = x509.load_pem_x509_certificate(certificate_text.encode())
        usages = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        key_usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return "the tree head's certificate is not one for signing the audit ledger"
    except ValueError:
        return "the tree head's certificate cannot be read"
    if x509.ObjectIdentifier(LEDGER_KEY_PURPOSE) not in list(usages) or not (
        key_usage.digital_signature
    ):
        return "the tree head's certificate is not one for signing the audit ledger"
    return None


class NoSigner(Exception):
    pass


def signer_get(name: str) -> HeadSigner:
    if name not in head_signers:
        raise NoSigner(name)
    return head_signers[name]()


def certificate_pem(certificate: Any) -> str:
    """PEM of a ``cryptography`` certificate, an asn1crypto one, DER or PEM."""
    if isinstance(certificate, x509.Certificate):
        return certificate.public_bytes(serialization.Encoding.PEM).decode()
    if hasattr(certificate, "dump"):
        der = certificate.dump()
        return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM).decode()
    if isinstance(certificate, str):
        certificate = certificate.encode()
    if isinstance(certificate, bytes):
        if b"-----BEGIN" in certificate:
            return (
                x509.load_pem_x509_certificate(certificate)
                .public_bytes(serialization.Encoding.PEM)
                .decode()
            )
        return (
            x509.load_der_x509_certificate(certificate)
            .public_bytes(serialization.Encoding.PEM)
            .decode()
        )
    raise TypeError(f"not a certificate: {type(certificate).__name__}")


def signature_valid(certificate_text: str, signature: bytes, data: bytes) -> bool:
    """Whether ``signature`` over ``data`` was made by the certificate's key."""
    try:
        certificate = x509.load_pem_x509_certificate(certificate_text.encode())
        key = certificate.public_key()
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            return False
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def chain_issued(certificate_text: str, chain_text: str, anchors_text: str) -> bool:
    """Whether the certificate leads, through the chain, to one of the anchors (signatures
    and names only: an offline check of who signed, not of revocation)."""
    try:
        current = x509.load_pem_x509_certificate(certificate_text.encode())
        chain = x509.load_pem_x509_certificates(chain_text.encode()) if chain_text.strip() else []
        anchors = x509.load_pem_x509_certificates(anchors_text.encode())
    except ValueError:
        return False
    candidates = [*chain, *anchors]
    for _ in range(len(candidates) + 1):
        if any(current == anchor for anchor in anchors):
            return True
        for issuer in candidates:
            if issuer.subject != current.issuer or issuer == current:
                continue
            try:
                current.verify_directly_issued_by(issuer)
            except (InvalidSignature, ValueError, TypeError):
                continue
            if any(issuer == anchor for anchor in anchors):
                return True
            current = issuer
            break
        else:
            return False
    return False
