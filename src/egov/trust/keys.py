"""The platform's signing keys, wherever they are: a file in the PKI folder or a PKCS#11 token.

``signing_key(name)`` gives the certificate called ``name`` (``ocsp``, ``tsa``, ``ledger``,
``agency-<code>-documents``, ``official-<username>``) with a way to sign; callers never
know where the key is. Names listed in ``EGOV_PKI_PKCS11_KEYS`` are in the token
(``EGOV_PKI_PKCS11_MODULE``, ``EGOV_PKI_PKCS11_TOKEN``, ``EGOV_PKI_PKCS11_PIN``), found by
their label; every other key is ``issued/<name>.key.pem``, encrypted with the key passphrase.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from django.conf import settings

from egov.trust.pki import ca_certificates, certificate_current, load_certificate
from egov.trust.pki.keys import load_private_key

if TYPE_CHECKING:
    from pyhanko.sign.signers import Signer

logger = structlog.get_logger(__name__)


class SigningKeyMissing(Exception):
    """No certificate in force under that name, or its key cannot be reached."""


def _asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


@dataclass
class SigningKey(ABC):
    name: str
    certificate: x509.Certificate
    #: The CA certificates above it: the issuing CA first, the root last.
    chain: list[x509.Certificate] = field(default_factory=list)

    @abstractmethod
    def sign(self, data: bytes) -> bytes:
        """A DER ECDSA-SHA256 signature of ``data``."""

    @abstractmethod
    def pyhanko_signer(self) -> Signer:
        """A pyHanko signer (``SimpleSigner`` or ``PKCS11Signer``) for this key and chain."""


@dataclass
class FileSigningKey(SigningKey):
    private_key: ec.EllipticCurvePrivateKey | None = None

    def sign(self, data: bytes) -> bytes:
        assert self.private_key is not None
        return self.private_key.sign(data, ec.ECDSA(hashes.SHA256()))

    def pyhanko_signer(self) -> Signer:
        from asn1crypto import keys as asn1_keys
        from pyhanko.sign.signers import SimpleSigner
        from pyhanko_certvalidator.registry import SimpleCertificateStore

        assert self.private_key is not None
        key_info = asn1_keys.PrivateKeyInfo.load(
            self.private_key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return SimpleSigner(
            signing_cert=_asn1(self.certificate),
            signing_key=key_info,
            cert_registry=SimpleCertificateStore.from_certs([_asn1(c) for c in self.chain]),
        )


@dataclass
class Pkcs11SigningKey(SigningKey):
    session: Any = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _key(self) -> Any:
        from pkcs11 import KeyType, ObjectClass

        return self.session.get_key(
            object_class=ObjectClass.PRIVATE_KEY, key_type=KeyType.EC, label=self.name
        )

    def sign(self, data: bytes) -> bytes:
        from pkcs11 import Mechanism

        digest = hashes.Hash(hashes.SHA256())
        digest.update(data)
        with self.lock:
            raw = self._key().sign(digest.finalize(), mechanism=Mechanism.ECDSA)
        half = len(raw) // 2
        return encode_dss_signature(
            int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
        )

    def pyhanko_signer(self) -> Signer:
        from pyhanko.sign.pkcs11 import PKCS11Signer

        return PKCS11Signer(
            self.session,
            key_label=self.name,
            signing_cert=_asn1(self.certificate),
            ca_chain=[_asn1(c) for c in self.chain],
            # Hash here, sign the digest in the token (CKM_ECDSA): tokens such as SoftHSM2
            # lack the combined CKM_ECDSA_SHA256.
            use_raw_mechanism=True,
        )


def pki_directory() -> Path:
    return Path(settings.PKI_DIR)


_sessions: dict[tuple[str, str], Any] = {}
_sessions_lock = threading.Lock()


def pkcs11_session() -> Any:
    """The process's session with the configured token (logged in, read-write), opened on
    first use."""
    import pkcs11

    module, label = settings.PKI_PKCS11_MODULE, settings.PKI_PKCS11_TOKEN
    if not module or not label:
        raise SigningKeyMissing("EGOV_PKI_PKCS11_MODULE and EGOV_PKI_PKCS11_TOKEN are not set")
    with _sessions_lock:
        session = _sessions.get((module, label))
        if session is not None:
            return session
        library = pkcs11.lib(module)
        try:
            token = library.get_token(token_label=label)
        except pkcs11.exceptions.NoSuchToken:
            # The module reads its configuration when first loaded: a token made since is
            # seen after a re-initialisation.
            library.reinitialize()
            try:
                token = library.get_token(token_label=label)
            except pkcs11.exceptions.NoSuchToken:
                raise SigningKeyMissing(f"no PKCS#11 token labelled {label!r}") from None
        session = token.open(user_pin=settings.PKI_PKCS11_PIN, rw=True)
        _sessions[(module, label)] = session
        return session


def pkcs11_sessions_close() -> None:
    """Close every open token session (tests, and a process that re-reads its token)."""
    with _sessions_lock:
        for session in _sessions.values():
            try:
                session.close()
            except Exception:  # a session whose token went away
                logger.warning("pkcs11_session_close_failed")
        _sessions.clear()


def pkcs11_generate(name: str) -> ec.EllipticCurvePublicKey:
    """A P-256 key pair made in the token under the label ``name``; its public key."""
    from pkcs11 import Attribute, KeyType, ObjectClass
    from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters

    session = pkcs11_session()
    existing = list(
        session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.LABEL: name})
    )
    if existing:
        raise SigningKeyMissing(f"the token already holds a key labelled {name!r}")
    parameters = session.create_domain_parameters(
        KeyType.EC,
        {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")},
        local=True,
    )
    public, _private = parameters.generate_keypair(store=True, label=name)
    key = serialization.load_der_public_key(encode_ec_public_key(public))
    assert isinstance(key, ec.EllipticCurvePublicKey)
    return key


_cache: dict[tuple[str, str, int], SigningKey] = {}
_cache_lock = threading.Lock()


def signing_key(name: str) -> SigningKey:
    """The key and certificate in force under ``name``.

    Loaded once per certificate (a re-issued certificate is a new one); raises
    :class:`SigningKeyMissing` when there is none."""
    directory = pki_directory()
    current = certificate_current(directory=directory, name=name)
    if current is None:
        raise SigningKeyMissing(
            f"no certificate called {name!r} is in force (run `egov trust setup`)"
        )
    in_token = name in settings.PKI_PKCS11_KEYS
    cache_key = (str(directory), name, current.serial)
    cached = _cache.get(cache_key)
    if cached is not None and isinstance(cached, Pkcs11SigningKey) == in_token:
        return cached
    certificate = load_certificate(current.certificate_path)
    chain = list(reversed(ca_certificates(directory=directory)))
    key: SigningKey
    if in_token:
        key = Pkcs11SigningKey(
            name=name, certificate=certificate, chain=chain, session=pkcs11_session()
        )
    else:
        try:
            private_key = load_private_key(current.key_path)
        except FileNotFoundError:
            raise SigningKeyMissing(f"the key of {name!r} is not in the PKI folder") from None
        if private_key.public_key() != certificate.public_key():
            raise SigningKeyMissing(f"the key of {name!r} does not match its certificate")
        key = FileSigningKey(
            name=name, certificate=certificate, chain=chain, private_key=private_key
        )
    with _cache_lock:
        _cache[cache_key] = key
    return key
