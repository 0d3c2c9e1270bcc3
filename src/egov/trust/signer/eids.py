"""Where the signer finds e-IDs: PKCS#12 files (one per person) or a PKCS#11 token.

Each e-ID has an authentication key and a signing key with their certificates; the person
unlocks it with the file's password or the token's PIN for one operation at a time. Nothing
unlocked is kept after the operation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from egov.trust.signer.pkcs12 import (
    AUTHENTICATION,
    SIGNING,
    Pkcs12Error,
    WrongPassword,
    eid_pkcs12_certificates,
    eid_pkcs12_open,
)

__all__ = [
    "AUTHENTICATION",
    "SIGNING",
    "Eid",
    "EidError",
    "Pkcs11Eid",
    "Pkcs12Eid",
    "WrongSecret",
    "authentication_payload",
    "eids_from_paths",
]


class EidError(Exception):
    """The e-ID cannot be used (its file is damaged, the token is gone, a key is missing)."""


class WrongSecret(EidError):
    """The password or PIN is not right."""


def authentication_payload(origin: str, challenge: bytes) -> bytes:
    """What the authentication key signs: SHA-256(origin) ‖ SHA-256(challenge), as Web eID
    does, so a signature for one site is worthless to another."""
    return hashlib.sha256(origin.encode("utf-8")).digest() + hashlib.sha256(challenge).digest()


def _pem(certificates: Iterable[x509.Certificate]) -> str:
    return "".join(
        certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
        for certificate in certificates
    )


def _attribute(certificate: x509.Certificate, oid: x509.ObjectIdentifier) -> str:
    values = certificate.subject.get_attributes_for_oid(oid)
    return str(values[0].value) if values else ""


@dataclass
class Result:
    """A finished operation: the certificate used, its chain (PEM) and the signature or CMS."""

    certificate_pem: str
    chain_pem: str
    signature: bytes = b""
    cms: bytes = b""


class Eid(Protocol):
    id: str

    @property
    def holder(self) -> str: ...

    @property
    def personal_number(self) -> str: ...

    @property
    def not_after(self) -> datetime: ...

    def authenticate(self, *, secret: str, origin: str, challenge: bytes) -> Result: ...

    async def sign(self, *, secret: str, digest: bytes) -> Result: ...


def _certificate_facts(certificate: x509.Certificate) -> tuple[str, str]:
    holder = _attribute(certificate, NameOID.COMMON_NAME)
    serial = _attribute(certificate, NameOID.SERIAL_NUMBER)
    personal_number = serial.split("-", 1)[1] if serial.startswith("PNO") and "-" in serial else ""
    return holder, personal_number


async def _cms(signer: Any, digest: bytes) -> bytes:
    """A detached CMS SignedData over a SHA-256 digest: signed attributes with the message
    digest, the signing time and the signing certificate (v2), by pyHanko."""
    from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes

    content_info = await signer.async_sign(
        digest,
        "sha256",
        is_pdf_sig=False,
        signed_attr_settings=PdfCMSSignedAttributes(signing_time=datetime.now(UTC)),
    )
    return bytes(content_info.dump())


class _Holder:
    """What an e-ID says of its holder, read from its authentication certificate."""

    certificates: dict[str, x509.Certificate]

    @property
    def holder(self) -> str:
        return _certificate_facts(self.certificates[AUTHENTICATION])[0]

    @property
    def personal_number(self) -> str:
        return _certificate_facts(self.certificates[AUTHENTICATION])[1]

    @property
    def not_after(self) -> datetime:
        return self.certificates[AUTHENTICATION].not_valid_after_utc


@dataclass
class Pkcs12Eid(_Holder):
    """An e-ID file: the certificates are read at start (they are not encrypted), the keys
    only with the password, for the one operation."""

    path: Path
    id: str = ""
    certificates: dict[str, x509.Certificate] = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:
            contents = eid_pkcs12_certificates(self.path.read_bytes())
        except (OSError, Pkcs12Error) as error:
            raise EidError(f"{self.path.name}: {error}") from None
        self.certificates = contents.certificates
        if AUTHENTICATION not in self.certificates or SIGNING not in self.certificates:
            raise EidError(f"{self.path.name}: not an e-ID file (two keys are needed)")
        self.id = self.id or hashlib.sha256(str(self.path).encode()).hexdigest()[:16]

    def _open(
        self, secret: str, name: str
    ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate, list[x509.Certificate]]:
        try:
            opened = eid_pkcs12_open(self.path.read_bytes(), secret)
        except WrongPassword:
            raise WrongSecret("wrong password") from None
        except (OSError, Pkcs12Error) as error:
            raise EidError(f"{self.path.name}: {error}") from None
        if name not in opened.keys or name not in opened.certificates:
            raise EidError(f"{self.path.name}: no {name} key")
        return opened.keys[name], opened.certificates[name], opened.chain

    def authenticate(self, *, secret: str, origin: str, challenge: bytes) -> Result:
        key, certificate, chain = self._open(secret, AUTHENTICATION)
        signature = key.sign(authentication_payload(origin, challenge), ec.ECDSA(hashes.SHA256()))
        return Result(_pem([certificate]), _pem(chain), signature=signature)

    async def sign(self, *, secret: str, digest: bytes) -> Result:
        from pyhanko.sign.signers import SimpleSigner
        from pyhanko_certvalidator.registry import SimpleCertificateStore

        key, certificate, chain = self._open(secret, SIGNING)
        der_key = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        signer = SimpleSigner(
            signing_cert=asn1_x509.Certificate.load(
                certificate.public_bytes(serialization.Encoding.DER)
            ),
            signing_key=asn1_keys.PrivateKeyInfo.load(der_key),
            cert_registry=SimpleCertificateStore.from_certs(
                [
                    asn1_x509.Certificate.load(ca.public_bytes(serialization.Encoding.DER))
                    for ca in chain
                ]
            ),
        )
        return Result(_pem([certificate]), _pem(chain), cms=await _cms(signer, digest))


@dataclass
class Pkcs11Eid(_Holder):
    """An e-ID in a PKCS#11 token (an ID card, a USB token; SoftHSM2 in tests): the keys and
    certificates labelled ``authentication`` and ``signing``, the CA certificates under any
    other label; the PIN opens a session for one operation."""

    module: str
    token_label: str
    id: str = ""
    certificates: dict[str, x509.Certificate] = field(default_factory=dict)
    chain: list[x509.Certificate] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.id = (
            self.id
            or "pkcs11-"
            + hashlib.sha256(f"{self.module}\x00{self.token_label}".encode()).hexdigest()[:16]
        )
        self.refresh()

    def _token(self) -> Any:
        import pkcs11

        try:
            library = pkcs11.lib(self.module)
            return library.get_token(token_label=self.token_label)
        except (RuntimeError, OSError, pkcs11.exceptions.PKCS11Error) as error:
            raise EidError(f"token {self.token_label!r}: {type(error).__name__}") from None

    def refresh(self) -> None:
        """Read the certificates (public objects: no PIN needed)."""
        import pkcs11
        from pkcs11 import Attribute, ObjectClass

        token = self._token()
        certificates: dict[str, x509.Certificate] = {}
        chain: list[x509.Certificate] = []
        try:
            with token.open() as session:
                for item in session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}):
                    certificate = x509.load_der_x509_certificate(bytes(item[Attribute.VALUE]))
                    label = str(item[Attribute.LABEL])
                    if label in (AUTHENTICATION, SIGNING):
                        certificates[label] = certificate
                    else:
                        chain.append(certificate)
        except pkcs11.exceptions.PKCS11Error as error:
            raise EidError(f"token {self.token_label!r}: {type(error).__name__}") from None
        if AUTHENTICATION not in certificates or SIGNING not in certificates:
            raise EidError(f"token {self.token_label!r}: no e-ID certificates in it")
        self.certificates, self.chain = certificates, chain

    def _session(self, secret: str) -> Any:
        import pkcs11

        try:
            return self._token().open(user_pin=secret)
        except (
            pkcs11.exceptions.PinIncorrect,
            pkcs11.exceptions.PinInvalid,
            pkcs11.exceptions.PinLenRange,
            pkcs11.exceptions.ArgumentsBad,
        ):
            raise WrongSecret("wrong PIN") from None
        except pkcs11.exceptions.PKCS11Error as error:
            raise EidError(f"token {self.token_label!r}: {type(error).__name__}") from None

    def authenticate(self, *, secret: str, origin: str, challenge: bytes) -> Result:
        import pkcs11
        from pkcs11 import KeyType, Mechanism, ObjectClass
        from pkcs11.util.ec import encode_ecdsa_signature

        digest = hashlib.sha256(authentication_payload(origin, challenge)).digest()
        with self._session(secret) as session:
            try:
                key = session.get_key(
                    object_class=ObjectClass.PRIVATE_KEY, key_type=KeyType.EC, label=AUTHENTICATION
                )
                raw = key.sign(digest, mechanism=Mechanism.ECDSA)
            except pkcs11.exceptions.PKCS11Error as error:
                raise EidError(f"token {self.token_label!r}: {type(error).__name__}") from None
        return Result(
            _pem([self.certificates[AUTHENTICATION]]),
            _pem(self.chain),
            signature=bytes(encode_ecdsa_signature(raw)),
        )

    async def sign(self, *, secret: str, digest: bytes) -> Result:
        import pkcs11
        from pyhanko.sign.pkcs11 import PKCS11Signer

        with self._session(secret) as session:
            try:
                signer = PKCS11Signer(
                    session,
                    cert_label=SIGNING,
                    key_label=SIGNING,
                    other_certs_to_pull=(),
                    # Hashed here, signed raw: tokens that know only CKM_ECDSA work too.
                    use_raw_mechanism=True,
                    ca_chain=[
                        asn1_x509.Certificate.load(ca.public_bytes(serialization.Encoding.DER))
                        for ca in self.chain
                    ],
                )
                cms = await _cms(signer, digest)
            except pkcs11.exceptions.PKCS11Error as error:
                raise EidError(f"token {self.token_label!r}: {type(error).__name__}") from None
        return Result(_pem([self.certificates[SIGNING]]), _pem(self.chain), cms=cms)


def eids_from_paths(paths: Iterable[Path]) -> tuple[list[Eid], list[str]]:
    """The e-ID files among ``paths`` (a folder stands for its ``*.p12`` files) and, for the
    ones that could not be read, why."""
    found: list[Eid] = []
    problems: list[str] = []
    for path in paths:
        files = sorted(path.glob("*.p12")) if path.is_dir() else [path]
        for file in files:
            try:
                found.append(Pkcs12Eid(path=file))
            except EidError as error:
                problems.append(str(error))
    return found, problems
