"""The platform's certificate authority, kept in a directory.

Layout of ``directory``::

    root.key.pem  root.cert.pem          root CA, ECDSA P-384, 20 years, path length 1
    issuing.key.pem  issuing.cert.pem    issuing CA, ECDSA P-256, 10 years, path length 0
    index.json                           every issued certificate and its revocation
    crl.pem                              CRL signed by the issuing CA, re-issued on revocation
    issued/<name>.key.pem (0600)  issued/<name>.cert.pem  issued/<name>.chain.pem

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
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from egov.trust.pki.keys import fingerprint_sha256, load_certificate, load_private_key
from egov.trust.pki.profiles import profile_get

ROOT_VALIDITY = timedelta(days=20 * 365 + 5)
ISSUING_VALIDITY = timedelta(days=10 * 365 + 2)
CRL_VALIDITY = timedelta(days=7)
#: Certificates start to be valid a little in the past so a peer whose clock lags accepts them.
BACKDATE = timedelta(minutes=5)

ROOT_KEY = "root.key.pem"
ROOT_CERT = "root.cert.pem"
ISSUING_KEY = "issuing.key.pem"
ISSUING_CERT = "issuing.cert.pem"
INDEX = "index.json"
CRL = "crl.pem"
ISSUED = "issued"

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
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


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


def _write_index(directory: Path, index: dict[str, Any]) -> None:
    _write(directory / INDEX, json.dumps(index, indent=2, ensure_ascii=False).encode() + b"\n")


def _name(common_name: str, organization: str = "", country: str = "") -> x509.Name:
    attributes = []
    if country:
        attributes.append(x509.NameAttribute(NameOID.COUNTRY_NAME, country))
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _ca_certificate(
    *,
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Certificate | None,
    issuer_key: ec.EllipticCurvePrivateKey,
    validity: timedelta,
    path_length: int,
) -> x509.Certificate:
    now = _now()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer else subject)
        .public_key(key.public_key())
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
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    algorithm = hashes.SHA384() if issuer_key.curve.key_size >= 384 else hashes.SHA256()
    return builder.sign(issuer_key, algorithm)


def pki_init(*, directory: Path, instance: str = "BY") -> None:
    """Create the root and issuing CAs, an empty index and a CRL. What exists is kept, so
    running it again changes nothing."""
    directory = Path(directory)
    with _locked(directory):
        root_key_path, root_cert_path = directory / ROOT_KEY, directory / ROOT_CERT
        if root_cert_path.exists() != root_key_path.exists():
            raise PkiError(f"{directory}: the root CA key or certificate is missing")
        if root_cert_path.exists():
            root_key = load_private_key(root_key_path)
            root = load_certificate(root_cert_path)
        else:
            root_key = ec.generate_private_key(ec.SECP384R1())
            root = _ca_certificate(
                subject=_name(f"{instance} egov Root CA", "egov", instance),
                key=root_key,
                issuer=None,
                issuer_key=root_key,
                validity=ROOT_VALIDITY,
                path_length=1,
            )
            _write(root_key_path, _key_pem(root_key), mode=0o600)
            _write(root_cert_path, _cert_pem(root))

        issuing_key_path, issuing_cert_path = directory / ISSUING_KEY, directory / ISSUING_CERT
        if issuing_cert_path.exists() != issuing_key_path.exists():
            raise PkiError(f"{directory}: the issuing CA key or certificate is missing")
        if not issuing_cert_path.exists():
            issuing_key = ec.generate_private_key(ec.SECP256R1())
            issuing = _ca_certificate(
                subject=_name(f"{instance} egov Issuing CA", "egov", instance),
                key=issuing_key,
                issuer=root,
                issuer_key=root_key,
                validity=ISSUING_VALIDITY,
                path_length=0,
            )
            _write(issuing_key_path, _key_pem(issuing_key), mode=0o600)
            _write(issuing_cert_path, _cert_pem(issuing))

        (directory / ISSUED).mkdir(mode=0o700, exist_ok=True)
        if not (directory / INDEX).exists():
            _write_index(directory, _read_index(directory))
        if not (directory / CRL).exists():
            _issue_crl(directory, _read_index(directory))


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
            issued = _entry_certificate(directory, entry)
            if issued.key_path.exists() and issued.certificate_path.exists():
                return issued
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
) -> IssuedCertificate:
    """Issue an end-entity certificate with a fresh P-256 key under the issuing CA.

    A name stays with one certificate until it is revoked: issuing a second one under a name
    in use is refused, so a key in use is never overwritten."""
    directory = Path(directory)
    definition = profile_get(profile)
    if not common_name:
        raise PkiError("a certificate needs a common name")
    key_path, certificate_path, chain_path = issued_paths(directory=directory, name=name)
    try:
        addresses = [ipaddress.ip_address(address) for address in ip_addresses]
    except ValueError as error:
        raise PkiError(str(error)) from None
    with _locked(directory):
        issuing, issuing_key = _issuing(directory)
        index = _read_index(directory)
        if any(
            entry["name"] == name and not entry.get("revoked_at") for entry in index["certificates"]
        ):
            raise PkiError(f"a certificate called {name!r} is in use; revoke it first")

        key = ec.generate_private_key(ec.SECP256R1())
        now = _now()
        not_after = min(now + definition.validity, issuing.not_valid_after_utc)
        usages = definition.key_usages
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name, organization))
            .issuer_name(issuing.subject)
            .public_key(key.public_key())
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
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
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
        alternative_names: list[x509.GeneralName] = [
            x509.DNSName(dns_name) for dns_name in dns_names
        ]
        alternative_names += [x509.IPAddress(address) for address in addresses]
        if alternative_names:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(alternative_names), critical=False
            )
        certificate = builder.sign(issuing_key, hashes.SHA256())

        _write(key_path, _key_pem(key), mode=0o600)
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
        }
        index["certificates"].append(entry)
        _write_index(directory, index)
        return _entry_certificate(directory, entry)


def _reason(reason: str) -> x509.ReasonFlags:
    normalised = reason.strip()
    flag = REASONS.get(normalised) or REASONS.get(normalised.lower().replace("-", "_"))
    if flag is None:
        raise PkiError(f"unknown revocation reason {reason!r}; use one of {sorted(REASONS)}")
    return flag


def _issue_crl(directory: Path, index: dict[str, Any]) -> x509.CertificateRevocationList:
    issuing, issuing_key = _issuing(directory)
    now = _now()
    index["crl_number"] = int(index.get("crl_number", 0)) + 1
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuing.subject)
        .last_update(now)
        .next_update(now + CRL_VALIDITY)
        .add_extension(x509.CRLNumber(index["crl_number"]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuing_key.public_key()),
            critical=False,
        )
    )
    for entry in index["certificates"]:
        if not entry.get("revoked_at"):
            continue
        revoked = (
            x509.RevokedCertificateBuilder()
            .serial_number(int(entry["serial"]))
            .revocation_date(datetime.fromisoformat(entry["revoked_at"]))
        )
        flag = REASONS[entry["reason"]]
        if flag is not x509.ReasonFlags.unspecified:  # RFC 5280 §5.3.1: omit rather than use it
            revoked = revoked.add_extension(x509.CRLReason(flag), critical=False)
        builder = builder.add_revoked_certificate(revoked.build())
    crl = builder.sign(issuing_key, hashes.SHA256())
    _write(directory / CRL, crl.public_bytes(serialization.Encoding.PEM))
    _write_index(directory, index)
    return crl


def crl_issue(*, directory: Path) -> x509.CertificateRevocationList:
    """Re-issue the CRL (e.g. before its next update time passes)."""
    directory = Path(directory)
    with _locked(directory):
        return _issue_crl(directory, _read_index(directory))


def certificate_revoke(*, directory: Path, serial: int, reason: str) -> None:
    """Mark a certificate revoked in the index and re-issue the CRL."""
    directory = Path(directory)
    flag = _reason(reason)
    with _locked(directory):
        index = _read_index(directory)
        for entry in index["certificates"]:
            if int(entry["serial"]) == int(serial):
                break
        else:
            raise PkiError(f"no certificate with serial {serial} was issued here")
        if entry.get("revoked_at"):
            raise PkiError(f"the certificate with serial {serial} is already revoked")
        entry["revoked_at"] = _now().isoformat()
        entry["reason"] = flag.name
        _issue_crl(directory, index)


def revoked_serials(*, directory: Path) -> set[int]:
    return {
        int(entry["serial"])
        for entry in _read_index(Path(directory))["certificates"]
        if entry.get("revoked_at")
    }
