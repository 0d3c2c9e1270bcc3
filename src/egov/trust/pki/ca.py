"""The platform's certificate authority, kept in a directory.

Layout of ``directory``::

    root.key.pem  root.cert.pem          root CA, ECDSA P-384, 20 years, path length 1
                                         (no root.key.pem when the root is kept offline)
    issuing.key.pem  issuing.cert.pem    issuing CA, ECDSA P-256, 10 years, path length 0
    issuing.csr.pem                      the request for an offline root, until its answer
    index.json                           every issued certificate and its revocation
    crl.pem                              CRL signed by the issuing CA, re-issued on revocation
                                         and when it nears its next update
    issued/<name>.key.pem (0600)  issued/<name>.cert.pem  issued/<name>.chain.pem

Private keys are written encrypted with the configured key passphrase (see
:mod:`egov.trust.pki.keys`). Names of the CAs are templates with ``{instance}``: nothing here
knows which country runs it.

Revocation and the CRL are in :mod:`egov.trust.pki.revocation`.

Free of Django so the gateway and command-line tools can use it. Changes to the index are
serialised with an exclusive lock on ``.lock`` in the directory; files are replaced atomically.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from egov.trust.pki.keys import (
    fingerprint_sha256,
    load_certificate,
    load_private_key,
    private_key_encrypted,
    private_key_pem,
)
from egov.trust.pki.profiles import profile_get

ROOT_VALIDITY = timedelta(days=20 * 365 + 5)
ISSUING_VALIDITY = timedelta(days=10 * 365 + 2)
#: Certificates start to be valid a little in the past so a peer whose clock lags accepts them.
BACKDATE = timedelta(minutes=5)

ROOT_KEY = "root.key.pem"
ROOT_CERT = "root.cert.pem"
ISSUING_KEY = "issuing.key.pem"
ISSUING_CERT = "issuing.cert.pem"
ISSUING_CSR = "issuing.csr.pem"
#: Marks a PKI whose root key is elsewhere (``pki init --offline-root``).
OFFLINE_ROOT = "offline-root"
INDEX = "index.json"
CRL = "crl.pem"
ISSUED = "issued"

#: CA names, ``{instance}`` replaced by the instance (EGOV_PKI_ROOT_NAME, EGOV_PKI_ISSUING_NAME).
ROOT_NAME = "{instance} egov Root CA"
ISSUING_NAME = "{instance} egov Issuing CA"
#: Where the public endpoints are, below the base address (ADR 0010).
OCSP_PATH = "/trust/ocsp"
CA_ISSUERS_PATH = "/trust/ca/issuing.pem"
CRL_PATH = "/trust/crl/issuing.crl"

#: Where an issued certificate's private key is.
KEY_FILE = "file"  # issued/<name>.key.pem
KEY_EXTERNAL = "external"  # a token or the person: the platform never had it
KEY_RETURNED = "returned"  # generated here, handed to the caller and not kept

REASONS = {flag.name: flag for flag in x509.ReasonFlags} | {
    flag.value: flag for flag in x509.ReasonFlags
}


class PkiError(Exception):
    """The PKI cannot do what was asked (not initialised, unknown serial, name in use)."""


@dataclass(frozen=True)
class IssuedCertificate:
    name: str
    profile: str
    serial: int
    fingerprint: str
    subject: str
    not_after: datetime
    key_path: Path
    certificate_path: Path
    chain_path: Path
    #: ``file``, ``external`` or ``returned`` (see KEY_*).
    key_storage: str = KEY_FILE
    certificate: x509.Certificate | None = None
    #: Only for a key returned to the caller (``keep_key=False``).
    private_key: ec.EllipticCurvePrivateKey | None = None


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _write(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Write a file atomically with the given permissions, whatever the umask."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(descriptor, mode)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return private_key_pem(key)


def _cert_pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _read_index(directory: Path) -> dict[str, Any]:
    path = directory / INDEX
    if not path.exists():
        return {"crl_number": 0, "certificates": []}
    return dict(json.loads(path.read_text(encoding="utf-8")))


def index_version(*, directory: Path) -> tuple[str, int, int, int]:
    """What changes whenever a certificate is issued, renewed or revoked here (the index is
    replaced, never edited in place): a cache of anything derived from the index — a
    certificate's status, an OCSP answer, the TSA's key — is good while this stays the same."""
    path = Path(directory) / INDEX
    try:
        stat = path.stat()
    except FileNotFoundError:
        return (str(path), 0, 0, 0)
    return (str(path), stat.st_mtime_ns, stat.st_ino, stat.st_size)


def _write_index(directory: Path, index: dict[str, Any]) -> None:
    _write(directory / INDEX, json.dumps(index, indent=2, ensure_ascii=False).encode() + b"\n")


def _name(
    common_name: str,
    organization: str = "",
    country: str = "",
    *,
    given_name: str = "",
    surname: str = "",
    serial_number: str = "",
    title: str = "",
) -> x509.Name:
    attributes = []
    if country:
        attributes.append(x509.NameAttribute(NameOID.COUNTRY_NAME, country))
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    if title:
        attributes.append(x509.NameAttribute(NameOID.TITLE, title))
    if surname:
        attributes.append(x509.NameAttribute(NameOID.SURNAME, surname))
    if given_name:
        attributes.append(x509.NameAttribute(NameOID.GIVEN_NAME, given_name))
    if serial_number:
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial_number))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _country(instance: str, country: str | None) -> str:
    """The subject's country: given, else the instance when it is a two-letter code."""
    if country is not None:
        return country.upper()
    return instance.upper() if len(instance) == 2 and instance.isalpha() else ""


def _ca_name(template: str, instance: str) -> str:
    return " ".join(template.replace("{instance}", instance).split())


def _ca_certificate(
    *,
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey,
    issuer: x509.Certificate | None,
    issuer_key: ec.EllipticCurvePrivateKey,
    validity: timedelta,
    path_length: int,
) -> x509.Certificate:
    now = _now()
    public_key = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer else subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + validity)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    algorithm = hashes.SHA384() if issuer_key.curve.key_size >= 384 else hashes.SHA256()
    return builder.sign(issuer_key, algorithm)


def pki_init(
    *,
    directory: Path,
    instance: str = "",
    country: str | None = None,
    root_name: str = ROOT_NAME,
    issuing_name: str = ISSUING_NAME,
    organization: str = "egov",
    offline_root: bool = False,
) -> None:
    """Create the root and issuing CAs, an empty index and a CRL. What exists is kept, so
    running it again changes nothing.

    With ``offline_root`` no root key is made here: the issuing CA's key and a request for
    the offline root (``issuing.csr.pem``) are, and :func:`issuing_import` installs the
    answer."""
    directory = Path(directory)
    subject_country = _country(instance, country)
    with _locked(directory):
        root_key_path, root_cert_path = directory / ROOT_KEY, directory / ROOT_CERT
        issuing_key_path, issuing_cert_path = directory / ISSUING_KEY, directory / ISSUING_CERT
        issuing_subject = _name(_ca_name(issuing_name, instance), organization, subject_country)
        if offline_root or (directory / OFFLINE_ROOT).exists():
            if root_key_path.exists():
                raise PkiError(f"{directory}: a root key is here; the root is not offline")
            _write(directory / OFFLINE_ROOT, b"the root CA's key is kept on another machine\n")
            if issuing_cert_path.exists():
                _finish_init(directory)
                return
            if not issuing_key_path.exists():
                _write(
                    issuing_key_path, _key_pem(ec.generate_private_key(ec.SECP256R1())), mode=0o600
                )
            issuing_key = load_private_key(issuing_key_path)
            request = (
                x509.CertificateSigningRequestBuilder()
                .subject_name(issuing_subject)
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .sign(issuing_key, hashes.SHA256())
            )
            _write(directory / ISSUING_CSR, request.public_bytes(serialization.Encoding.PEM))
            return
        if root_cert_path.exists() != root_key_path.exists():
            raise PkiError(f"{directory}: the root CA key or certificate is missing")
        if root_cert_path.exists():
            root_key = load_private_key(root_key_path)
            root = load_certificate(root_cert_path)
        else:
            root_key, root = _root_create(
                directory,
                instance=instance,
                country=subject_country,
                root_name=root_name,
                organization=organization,
            )

        if issuing_cert_path.exists() != issuing_key_path.exists():
            raise PkiError(f"{directory}: the issuing CA key or certificate is missing")
        if not issuing_cert_path.exists():
            issuing_key = ec.generate_private_key(ec.SECP256R1())
            issuing = _ca_certificate(
                subject=issuing_subject,
                key=issuing_key,
                issuer=root,
                issuer_key=root_key,
                validity=ISSUING_VALIDITY,
                path_length=0,
            )
            _write(issuing_key_path, _key_pem(issuing_key), mode=0o600)
            _write(issuing_cert_path, _cert_pem(issuing))
        _finish_init(directory)


def _finish_init(directory: Path) -> None:
    (directory / ISSUED).mkdir(mode=0o700, exist_ok=True)
    if not (directory / INDEX).exists():
        _write_index(directory, _read_index(directory))
    if not (directory / CRL).exists():
        from egov.trust.pki.revocation import crl_write

        crl_write(directory, _read_index(directory))


def _root_create(
    directory: Path, *, instance: str, country: str, root_name: str, organization: str
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    root_key = ec.generate_private_key(ec.SECP384R1())
    root = _ca_certificate(
        subject=_name(_ca_name(root_name, instance), organization, country),
        key=root_key,
        issuer=None,
        issuer_key=root_key,
        validity=ROOT_VALIDITY,
        path_length=1,
    )
    _write(directory / ROOT_KEY, _key_pem(root_key), mode=0o600)
    _write(directory / ROOT_CERT, _cert_pem(root))
    return root_key, root


def root_init(
    *,
    directory: Path,
    instance: str = "",
    country: str | None = None,
    root_name: str = ROOT_NAME,
    organization: str = "egov",
) -> x509.Certificate:
    """On the offline machine: the root CA alone (idempotent)."""
    directory = Path(directory)
    with _locked(directory):
        if (directory / ROOT_CERT).exists():
            if not (directory / ROOT_KEY).exists():
                raise PkiError(f"{directory}: the root CA key is missing")
            return load_certificate(directory / ROOT_CERT)
        return _root_create(
            directory,
            instance=instance,
            country=_country(instance, country),
            root_name=root_name,
            organization=organization,
        )[1]


def root_sign(*, directory: Path, request_pem: bytes) -> x509.Certificate:
    """On the offline machine: the issuing CA's certificate for its request. The request
    gives only the subject and the key; the extensions are the root's to choose."""
    directory = Path(directory)
    try:
        request = x509.load_pem_x509_csr(request_pem)
    except ValueError:
        raise PkiError("not a PEM certificate request") from None
    if not request.is_signature_valid:
        raise PkiError("the request's signature is not valid")
    key = request.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise PkiError("the platform PKI uses elliptic-curve keys only")
    with _locked(directory):
        try:
            root = load_certificate(directory / ROOT_CERT)
            root_key = load_private_key(directory / ROOT_KEY)
        except FileNotFoundError:
            raise PkiError(f"{directory}: no root CA here (run `egov pki root init`)") from None
        return _ca_certificate(
            subject=request.subject,
            key=key,
            issuer=root,
            issuer_key=root_key,
            validity=ISSUING_VALIDITY,
            path_length=0,
        )


def issuing_import(*, directory: Path, certificate_pem: bytes, root_pem: bytes) -> None:
    """Install the offline root's answer: the certificate must be for the issuing key made
    here, a CA certificate, and signed by the given root."""
    directory = Path(directory)
    try:
        certificate = x509.load_pem_x509_certificate(certificate_pem)
        root = x509.load_pem_x509_certificate(root_pem)
    except ValueError:
        raise PkiError("the certificate and the root must be PEM certificates") from None
    with _locked(directory):
        try:
            issuing_key = load_private_key(directory / ISSUING_KEY)
        except FileNotFoundError:
            raise PkiError(
                f"{directory}: no issuing key (run `egov pki init --offline-root`)"
            ) from None
        if certificate.public_key() != issuing_key.public_key():
            raise PkiError("the certificate is not for this PKI's issuing key")
        try:
            root.verify_directly_issued_by(root)
            certificate.verify_directly_issued_by(root)
        except (ValueError, TypeError, InvalidSignature):
            raise PkiError("the certificate is not signed by the given root") from None
        try:
            constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
        except x509.ExtensionNotFound:
            raise PkiError("the certificate is not a CA certificate") from None
        if not constraints.value.ca:
            raise PkiError("the certificate is not a CA certificate")
        if (directory / ROOT_KEY).exists():
            raise PkiError(f"{directory}: a root key is here; the root is not offline")
        _write(directory / ROOT_CERT, _cert_pem(root))
        _write(directory / ISSUING_CERT, _cert_pem(certificate))
        with contextlib.suppress(FileNotFoundError):
            (directory / ISSUING_CSR).unlink()
        _finish_init(directory)


def keys_encrypt(*, directory: Path, passphrase: bytes) -> list[Path]:
    """Rewrite every unencrypted key file of the PKI encrypted with ``passphrase``; returns
    the files rewritten."""
    if not passphrase:
        raise PkiError("no key passphrase is configured (EGOV_PKI_KEY_PASSPHRASE)")
    directory = Path(directory)
    rewritten = []
    with _locked(directory):
        for path in sorted([*directory.glob("*.key.pem"), *(directory / ISSUED).glob("*.key.pem")]):
            if private_key_encrypted(path):
                continue
            key = load_private_key(path)
            _write(path, private_key_pem(key, passphrase), mode=0o600)
            rewritten.append(path)
    return rewritten


def pkcs12_write(
    path: Path,
    key: ec.EllipticCurvePrivateKey,
    certificate: x509.Certificate,
    chain: Iterable[x509.Certificate],
    password: str | bytes,
) -> None:
    """A PKCS#12 file (0600) of the key, its certificate and the CA chain, encrypted with
    ``password`` (how a person is given an e-ID)."""
    secret = password.encode() if isinstance(password, str) else password
    if not secret:
        raise PkiError("a PKCS#12 file needs a password")
    subject = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    data = pkcs12.serialize_key_and_certificates(
        name=str(subject[0].value).encode() if subject else None,
        key=key,
        cert=certificate,
        cas=list(chain),
        encryption_algorithm=serialization.BestAvailableEncryption(secret),
    )
    _write(Path(path), data, mode=0o600)


def _issuing(directory: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    try:
        return (
            load_certificate(directory / ISSUING_CERT),
            load_private_key(directory / ISSUING_KEY),
        )
    except FileNotFoundError:
        raise PkiError(f"{directory}: the PKI is not initialised (run `egov pki init`)") from None


def ca_certificates(*, directory: Path) -> list[x509.Certificate]:
    """The root and the issuing CA certificate, in that order."""
    directory = Path(directory)
    try:
        return [load_certificate(directory / ROOT_CERT), load_certificate(directory / ISSUING_CERT)]
    except FileNotFoundError:
        raise PkiError(f"{directory}: the PKI is not initialised (run `egov pki init`)") from None


def issued_paths(*, directory: Path, name: str) -> tuple[Path, Path, Path]:
    """Where the key, the certificate and the chain of the certificate called ``name`` live."""
    if not name or "/" in name or name.startswith(".") or "\x00" in name:
        raise PkiError(f"not a valid certificate name: {name!r}")
    issued = Path(directory) / ISSUED
    return (
        issued / f"{name}.key.pem",
        issued / f"{name}.cert.pem",
        issued / f"{name}.chain.pem",
    )


def _entry_certificate(directory: Path, entry: dict[str, Any]) -> IssuedCertificate:
    key_path, certificate_path, chain_path = issued_paths(directory=directory, name=entry["name"])
    return IssuedCertificate(
        name=entry["name"],
        profile=entry["profile"],
        serial=int(entry["serial"]),
        fingerprint=entry["fingerprint"],
        subject=entry["subject"],
        not_after=datetime.fromisoformat(entry["not_after"]),
        key_path=key_path,
        certificate_path=certificate_path,
        chain_path=chain_path,
        key_storage=entry.get("key", KEY_FILE),
    )


def certificates_list(*, directory: Path) -> list[dict[str, Any]]:
    """The index entries: serial, name, profile, subject, not_after, fingerprint, revoked_at,
    reason."""
    return list(_read_index(Path(directory))["certificates"])


def certificate_current(*, directory: Path, name: str) -> IssuedCertificate | None:
    """The certificate called ``name`` that is neither revoked nor lost its files, if any."""
    directory = Path(directory)
    for entry in reversed(_read_index(directory)["certificates"]):
        if entry["name"] == name and not entry.get("revoked_at"):
            if entry.get("key", KEY_FILE) == KEY_RETURNED:
                continue
            issued = _entry_certificate(directory, entry)
            key_kept = issued.key_storage != KEY_FILE or issued.key_path.exists()
            if key_kept and issued.certificate_path.exists():
                return issued
    return None


def certificate_entry(*, directory: Path, serial: int) -> dict[str, Any] | None:
    """The index entry of the certificate with ``serial``, read from disk now (a revocation
    is seen at once)."""
    for entry in _read_index(Path(directory))["certificates"]:
        if int(entry["serial"]) == int(serial):
            return dict(entry)
    return None


def certificate_issue(
    *,
    directory: Path,
    profile: str,
    common_name: str,
    organization: str = "",
    ip_addresses: Iterable[str] = (),
    dns_names: Iterable[str] = (),
    name: str,
    given_name: str = "",
    surname: str = "",
    personal_number: str = "",
    country: str = "",
    title: str = "",
    base_url: str = "",
    public_key: ec.EllipticCurvePublicKey | None = None,
    keep_key: bool = True,
) -> IssuedCertificate:
    """Issue an end-entity certificate under the issuing CA, as its profile says.

    - A person's subject has ``given_name``, ``surname`` and the serialNumber
      ``PNO<country>-<personal_number>`` (ETSI EN 319 412-1); an official's carries ``title``.
    - With ``base_url`` the certificate names the OCSP responder and the issuing CA's
      certificate (AIA) and the CRL (distribution point) under it.
    - With ``public_key`` (a key made in a token or by the person) no key is made here; with
      ``keep_key=False`` the fresh key is returned in the result and no file is written
      (a citizen's e-ID goes to the person as a PKCS#12 file).

    A name stays with one certificate until it is revoked: issuing a second one under a name
    in use is refused, so a key in use is never overwritten (keys not kept have nothing to
    overwrite)."""
    directory = Path(directory)
    definition = profile_get(profile)
    if not common_name:
        raise PkiError("a certificate needs a common name")
    if personal_number and not country:
        raise PkiError("a personal number needs the country code it belongs to")
    if country and not (len(country) == 2 and country.isalpha()):
        raise PkiError(f"not a two-letter country code: {country!r}")
    key_path, certificate_path, chain_path = issued_paths(directory=directory, name=name)
    try:
        addresses = [ipaddress.ip_address(address) for address in ip_addresses]
    except ValueError as error:
        raise PkiError(str(error)) from None
    if public_key is not None and not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise PkiError("the platform PKI uses elliptic-curve keys only")
    storage = KEY_EXTERNAL if public_key is not None else KEY_FILE if keep_key else KEY_RETURNED
    with _locked(directory):
        issuing, issuing_key = _issuing(directory)
        index = _read_index(directory)
        if storage != KEY_RETURNED and any(
            entry["name"] == name
            and not entry.get("revoked_at")
            and entry.get("key", KEY_FILE) != KEY_RETURNED
            for entry in index["certificates"]
        ):
            raise PkiError(f"a certificate called {name!r} is in use; revoke it first")

        key = ec.generate_private_key(ec.SECP256R1()) if public_key is None else None
        subject_key: ec.EllipticCurvePublicKey
        if key is not None:
            subject_key = key.public_key()
        else:
            assert public_key is not None
            subject_key = public_key
        now = _now()
        not_after = min(now + definition.validity, issuing.not_valid_after_utc)
        usages = definition.key_usages
        subject = _name(
            common_name,
            organization,
            country.upper(),
            given_name=given_name,
            surname=surname,
            serial_number=f"PNO{country.upper()}-{personal_number}" if personal_number else "",
            title=title,
        )
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuing.subject)
            .public_key(subject_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature="digital_signature" in usages,
                    content_commitment="content_commitment" in usages,
                    key_encipherment="key_encipherment" in usages,
                    data_encipherment="data_encipherment" in usages,
                    key_agreement="key_agreement" in usages,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(subject_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuing_key.public_key()),
                critical=False,
            )
        )
        if definition.extended_key_usages:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage(list(definition.extended_key_usages)),
                critical=definition.extended_key_usage_critical,
            )
        if ExtendedKeyUsageOID.OCSP_SIGNING in definition.extended_key_usages:
            # RFC 6960 §4.2.2.2.1: a delegated responder's own status is not asked for.
            builder = builder.add_extension(x509.OCSPNoCheck(), critical=False)
        if base_url:
            base = base_url.rstrip("/")
            builder = builder.add_extension(
                x509.AuthorityInformationAccess(
                    [
                        x509.AccessDescription(
                            AuthorityInformationAccessOID.OCSP,
                            x509.UniformResourceIdentifier(base + OCSP_PATH),
                        ),
                        x509.AccessDescription(
                            AuthorityInformationAccessOID.CA_ISSUERS,
                            x509.UniformResourceIdentifier(base + CA_ISSUERS_PATH),
                        ),
                    ]
                ),
                critical=False,
            ).add_extension(
                x509.CRLDistributionPoints(
                    [
                        x509.DistributionPoint(
                            full_name=[x509.UniformResourceIdentifier(base + CRL_PATH)],
                            relative_name=None,
                            reasons=None,
                            crl_issuer=None,
                        )
                    ]
                ),
                critical=False,
            )
        alternative_names: list[x509.GeneralName] = [
            x509.DNSName(dns_name) for dns_name in dns_names
        ]
        alternative_names += [x509.IPAddress(address) for address in addresses]
        if alternative_names:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(alternative_names), critical=False
            )
        certificate = builder.sign(issuing_key, hashes.SHA256())

        if storage == KEY_FILE and key is not None:
            _write(key_path, _key_pem(key), mode=0o600)
        if storage != KEY_RETURNED:
            _write(certificate_path, _cert_pem(certificate))
            _write(chain_path, _cert_pem(certificate) + _cert_pem(issuing))
        entry = {
            "serial": certificate.serial_number,
            "name": name,
            "profile": profile,
            "subject": certificate.subject.rfc4514_string(),
            "not_after": certificate.not_valid_after_utc.isoformat(),
            "fingerprint": fingerprint_sha256(certificate),
            "revoked_at": None,
            "reason": None,
            "key": storage,
        }
        index["certificates"].append(entry)
        _write_index(directory, index)
        issued = _entry_certificate(directory, entry)
        return IssuedCertificate(
            **{
                **issued.__dict__,
                "certificate": certificate,
                "private_key": key if storage == KEY_RETURNED else None,
            }
        )
