"""Loading keys and certificates, fingerprints, and ECDSA-SHA256 signatures.

Free of Django: the exchange gateway uses it in its own process.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

Source = bytes | str | os.PathLike[str]


def _read(source: Source, marker: bytes) -> bytes:
    """PEM or DER bytes, PEM text, or a path to a file holding either."""
    if isinstance(source, bytes):
        return source
    if isinstance(source, str) and marker.decode() in source:
        return source.encode()
    return Path(source).read_bytes()


def load_certificate(source: Source) -> x509.Certificate:
    data = _read(source, b"-----BEGIN")
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificate(data)
    return x509.load_der_x509_certificate(data)


def load_certificates(source: Source) -> list[x509.Certificate]:
    """Every certificate of a PEM bundle (a chain file)."""
    return x509.load_pem_x509_certificates(_read(source, b"-----BEGIN"))


def load_private_key(source: Source) -> ec.EllipticCurvePrivateKey:
    data = _read(source, b"-----BEGIN")
    if b"-----BEGIN" in data:
        key = serialization.load_pem_private_key(data, password=None)
    else:
        key = serialization.load_der_private_key(data, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("the platform PKI uses elliptic-curve keys only")
    return key


def certificate_pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def fingerprint_sha256(certificate: x509.Certificate) -> str:
    """Lower-case hex SHA-256 of the DER certificate, without separators."""
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def sign(private_key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    """An ECDSA-SHA256 signature (DER-encoded, as X.509 and X-Road use)."""
    return private_key.sign(data, ec.ECDSA(hashes.SHA256()))


def verify(certificate: x509.Certificate, signature: bytes, data: bytes) -> bool:
    """True only if ``signature`` is a valid ECDSA-SHA256 signature of ``data`` by the key of
    ``certificate``. Anything else, a malformed signature or a non-EC key included, is False."""
    try:
        public_key = certificate.public_key()
        if not isinstance(public_key, ec.EllipticCurvePublicKey):
            return False
        public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    except Exception:  # a malformed signature, an unusable key: not a valid signature either
        return False
    return True
