"""The OCSP responder's core (RFC 6960), free of Django: answers for the issuing CA from the
index as it is on disk at each request, signed by a delegated responder certificate.

``cryptography``'s OCSP builder does the encoding; nothing here is hand-written ASN.1.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp

from egov.trust.pki.ca import INDEX, ISSUING_CERT, REASONS
from egov.trust.pki.keys import load_certificate

#: How long a client may rely on an answer. Short: a revocation must reach relying parties
#: soon even through caches; the responder itself never caches statuses.
RESPONSE_VALIDITY = timedelta(minutes=10)

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


@dataclass(frozen=True)
class _IndexState:
    """The index parsed once per version of the file: the file is replaced atomically on
    every change (a new inode), so its identity changes with every revocation."""

    identity: tuple[int, int, int]
    by_serial: dict[int, dict[str, Any]]


_lock = threading.Lock()
_states: dict[Path, _IndexState] = {}
_issuers: dict[Path, tuple[tuple[int, int], x509.Certificate, dict[str, tuple[bytes, bytes]]]] = {}


def _index(directory: Path) -> dict[int, dict[str, Any]]:
    path = directory / INDEX
    status = path.stat()
    identity = (status.st_ino, status.st_mtime_ns, status.st_size)
    state = _states.get(directory)
    if state is not None and state.identity == identity:
        return state.by_serial
    data = json.loads(path.read_bytes())
    by_serial = {int(entry["serial"]): entry for entry in data["certificates"]}
    with _lock:
        _states[directory] = _IndexState(identity, by_serial)
    return by_serial


def _issuer(directory: Path) -> tuple[x509.Certificate, dict[str, tuple[bytes, bytes]]]:
    """The issuing CA and its name and key hashes by hash algorithm."""
    path = directory / ISSUING_CERT
    status = path.stat()
    identity = (status.st_ino, status.st_mtime_ns)
    cached = _issuers.get(directory)
    if cached is not None and cached[0] == identity:
        return cached[1], cached[2]
    issuing = load_certificate(path)
    hashes_by_name = {}
    for name, algorithm in _HASHES.items():
        hashes_by_name[name] = _issuer_hashes(issuing, algorithm())
    with _lock:
        _issuers[directory] = (identity, issuing, hashes_by_name)
    return issuing, hashes_by_name


def _issuer_hashes(
    issuing: x509.Certificate, algorithm: hashes.HashAlgorithm
) -> tuple[bytes, bytes]:
    name_hash = hashes.Hash(algorithm)
    name_hash.update(issuing.subject.public_bytes())
    key_hash = hashes.Hash(algorithm)
    key_hash.update(
        issuing.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )
    return name_hash.finalize(), key_hash.finalize()


def _unsuccessful(status: ocsp.OCSPResponseStatus) -> bytes:
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(
        serialization.Encoding.DER
    )


def ocsp_malformed() -> bytes:
    return _unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)


def ocsp_internal_error() -> bytes:
    return _unsuccessful(ocsp.OCSPResponseStatus.INTERNAL_ERROR)


def ocsp_respond(
    *,
    directory: Path,
    request_der: bytes,
    responder_certificate: x509.Certificate,
    responder_key: ec.EllipticCurvePrivateKey,
    now: datetime | None = None,
) -> bytes:
    """A DER OCSPResponse for a DER OCSPRequest: malformedRequest for what does not parse,
    unauthorized for another CA's certificate, else good, revoked or unknown (a serial never
    issued here), the request's nonce echoed."""
    try:
        request = ocsp.load_der_ocsp_request(request_der)
        algorithm_name = request.hash_algorithm.name
        serial = request.serial_number
        name_hash, key_hash = request.issuer_name_hash, request.issuer_key_hash
        try:
            nonce = request.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
        except x509.ExtensionNotFound:
            nonce = None
    except Exception:  # every way a request can be broken is the client's: never a 500
        return ocsp_malformed()
    if algorithm_name not in _HASHES:
        return ocsp_malformed()
    directory = Path(directory)
    _issuing, issuer_hashes = _issuer(directory)
    if (name_hash, key_hash) != issuer_hashes[algorithm_name]:
        return _unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
    entry = _index(directory).get(serial)
    moment = (now or datetime.now(UTC)).replace(microsecond=0)
    revocation_time = None
    revocation_reason = None
    if entry is None:
        status = ocsp.OCSPCertStatus.UNKNOWN
    elif entry.get("revoked_at"):
        status = ocsp.OCSPCertStatus.REVOKED
        revocation_time = datetime.fromisoformat(entry["revoked_at"])
        flag = REASONS.get(entry.get("reason") or "unspecified", x509.ReasonFlags.unspecified)
        revocation_reason = None if flag is x509.ReasonFlags.unspecified else flag
    else:
        status = ocsp.OCSPCertStatus.GOOD
    builder = (
        ocsp.OCSPResponseBuilder()
        .add_response_by_hash(
            issuer_name_hash=name_hash,
            issuer_key_hash=key_hash,
            serial_number=serial,
            algorithm=_HASHES[algorithm_name](),
            cert_status=status,
            this_update=moment,
            next_update=moment + RESPONSE_VALIDITY,
            revocation_time=revocation_time,
            revocation_reason=revocation_reason,
        )
        .responder_id(ocsp.OCSPResponderEncoding.HASH, responder_certificate)
        .certificates([responder_certificate])
    )
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    response = builder.sign(responder_key, hashes.SHA256())
    return response.public_bytes(serialization.Encoding.DER)


def ocsp_request(
    certificate: x509.Certificate, issuer: x509.Certificate, *, nonce: bytes | None = None
) -> bytes:
    """A DER OCSP request for ``certificate`` (SHA-256 CertID), with a nonce if given."""
    builder = ocsp.OCSPRequestBuilder().add_certificate(certificate, issuer, hashes.SHA256())
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)
