"""Revocation in the platform PKI: marking a certificate revoked in the index and the issuing
CA's CRL (what the OCSP responder answers from is the same index, see ``ocsp``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from egov.trust.pki.ca import (
    CRL,
    REASONS,
    PkiError,
    _issuing,
    _locked,
    _now,
    _read_index,
    _write,
    _write_index,
)

CRL_VALIDITY = timedelta(days=7)
#: A CRL is re-issued when less than this is left before its next update.
CRL_REFRESH = timedelta(days=2)


def _reason(reason: str) -> x509.ReasonFlags:
    normalised = reason.strip()
    flag = REASONS.get(normalised) or REASONS.get(normalised.lower().replace("-", "_"))
    if flag is None:
        raise PkiError(f"unknown revocation reason {reason!r}; use one of {sorted(REASONS)}")
    return flag


def crl_write(directory: Path, index: dict[str, Any]) -> x509.CertificateRevocationList:
    """Sign and write the issuing CA's CRL from ``index`` (its number moves on), with the
    index; the caller holds the PKI's lock (or is making the PKI)."""
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


def crl_current(*, directory: Path) -> x509.CertificateRevocationList:
    """The issuing CA's CRL, re-issued first when it nears (or passed) its next update."""
    directory = Path(directory)
    try:
        crl = x509.load_pem_x509_crl((directory / CRL).read_bytes())
    except FileNotFoundError:
        raise PkiError(f"{directory}: the PKI is not initialised (run `egov pki init`)") from None
    if crl.next_update_utc is None or crl.next_update_utc - _now() < CRL_REFRESH:
        with _locked(directory):
            crl = x509.load_pem_x509_crl((directory / CRL).read_bytes())
            if crl.next_update_utc is None or crl.next_update_utc - _now() < CRL_REFRESH:
                crl = crl_write(directory, _read_index(directory))
    return crl


def crl_issue(*, directory: Path) -> x509.CertificateRevocationList:
    """Re-issue the CRL (e.g. before its next update time passes)."""
    directory = Path(directory)
    with _locked(directory):
        return crl_write(directory, _read_index(directory))


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
        crl_write(directory, index)


def revoked_serials(*, directory: Path) -> set[int]:
    return {
        int(entry["serial"])
        for entry in _read_index(Path(directory))["certificates"]
        if entry.get("revoked_at")
    }
