"""Loading keys and certificates, fingerprints, and ECDSA-SHA256 signatures.

Free of Django: the exchange gateway uses it in its own process.

Private keys at rest are PEM encrypted with the platform's key passphrase
(``EGOV_PKI_KEY_PASSPHRASE``, handed to :func:`key_passphrase_configure` when Django starts);
unencrypted keys from before still load, and ``egov pki encrypt-keys`` rewrites them.
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

_passphrase: bytes | None = None


def key_passphrase_configure(passphrase: str | bytes | None) -> None:
    """Set the passphrase keys are written with and read with (empty: unencrypted keys)."""
    global _passphrase
    if isinstance(passphrase, str):
        passphrase = passphrase.encode()
    _passphrase = passphrase or None


def key_passphrase() -> bytes | None:
    """The configured key passphrase, if any."""
    return _passphrase


def tls_key_password() -> bytes:
    """For ``ssl.SSLContext.load_cert_chain(password=tls_key_password)``: called only when the
    key file is encrypted."""
    return _passphrase or b""


def private_key_pem(
    key: ec.EllipticCurvePrivateKey, passphrase: bytes | object | None = ...
) -> bytes:
    """PKCS#8 PEM, encrypted with ``passphrase`` (default: the configured one; None: none)."""
    secret = _passphrase if passphrase is ... else passphrase
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(secret)
        if isinstance(secret, bytes) and secret
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def private_key_encrypted(source: Source) -> bool:
    """Whether a PEM key file (or text) is encrypted."""
    data = _read(source, b"-----BEGIN")
    return b"-----BEGIN ENCRYPTED" in data or b"Proc-Type: 4,ENCRYPTED" in data


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


def load_private_key(
    source: Source, passphrase: bytes | str | None = None
) -> ec.EllipticCurvePrivateKey:
    """An elliptic-curve private key, decrypted with ``passphrase`` (default: the configured
    one) when it is encrypted; an unencrypted key loads as it is."""
    data = _read(source, b"-----BEGIN")
    secret = passphrase.encode() if isinstance(passphrase, str) else passphrase
    secret = secret or _passphrase
    if b"-----BEGIN" in data:
        encrypted = b"-----BEGIN ENCRYPTED" in data or b"Proc-Type: 4,ENCRYPTED" in data
        if encrypted and not secret:
            raise ValueError("the key is encrypted and no key passphrase is configured")
        key = serialization.load_pem_private_key(data, password=secret if encrypted else None)
    else:
        try:
            key = serialization.load_der_private_key(data, password=None)
        except (TypeError, ValueError):
            key = serialization.load_der_private_key(data, password=secret)
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
