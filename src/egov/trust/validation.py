"""Is this certificate one the platform accepts, for this purpose, at this time?

``validate_certificate`` is what login, signed applications and document signing ask. The
chain to the platform root, validity, key usage and the revocation status are checked by
pyhanko-certvalidator; the status comes from the platform's own OCSP responder, called in
process, so a revocation is seen at once and no HTTP request goes to ourselves.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import structlog
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID
from django.utils.translation import gettext as _
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator import errors as validator_errors
from pyhanko_certvalidator.policy_decl import (
    CertRevTrustPolicy,
    RevocationCheckingPolicy,
    RevocationCheckingRule,
)

from egov.audit.signing import LEDGER_KEY_PURPOSE
from egov.trust.keys import pki_directory
from egov.trust.ocsp import ocsp_request, ocsp_response
from egov.trust.pki import (
    PkiError,
    ca_certificates,
    index_version,
    load_certificate,
    load_certificates,
)

logger = structlog.get_logger(__name__)

#: Key usages (all required) and extended key usages (all required) of each purpose, in
#: pyhanko-certvalidator's names.
PURPOSES: dict[str, tuple[set[str], set[str]]] = {
    "authentication": ({"digital_signature"}, {"client_auth"}),
    "signing": ({"non_repudiation"}, set()),
    # RFC 9336 id-kp-documentSigning (asn1crypto knows it by its number only).
    "document": ({"digital_signature", "non_repudiation"}, {"1.3.6.1.5.5.7.3.36"}),
    "ledger": ({"digital_signature"}, {LEDGER_KEY_PURPOSE}),
    "timestamp": ({"digital_signature"}, {"time_stamping"}),
    "ocsp": ({"digital_signature"}, {"ocsp_signing"}),
}

#: Reason codes (stable, for machines) of a result.
VALID = "valid"
MALFORMED = "malformed"
UNTRUSTED = "untrusted"
EXPIRED = "expired"
NOT_YET_VALID = "not_yet_valid"
REVOKED = "revoked"
UNKNOWN = "unknown"
WRONG_USAGE = "wrong_usage"
UNAVAILABLE = "revocation_unavailable"

CertificateInput = x509.Certificate | bytes | str


@dataclass(frozen=True)
class ValidationResult:
    valid: bool
    #: One of the reason codes above.
    reason: str
    #: For a person, translated.
    message: str
    #: The OCSP status: ``good``, ``revoked``, ``unknown``; None when not asked.
    status: str | None = None
    revoked_at: datetime | None = None

    def __bool__(self) -> bool:
        return self.valid


def _message(reason: str) -> str:
    messages = {
        VALID: _("The certificate is valid."),
        MALFORMED: _("This is not a certificate that can be read."),
        UNTRUSTED: _("The certificate was not issued by the platform's certification authority."),
        EXPIRED: _("The certificate has expired."),
        NOT_YET_VALID: _("The certificate is not valid yet."),
        REVOKED: _("The certificate has been revoked."),
        UNKNOWN: _("The certification authority does not know this certificate."),
        WRONG_USAGE: _("The certificate may not be used for this purpose."),
        UNAVAILABLE: _("The certificate's status cannot be checked now. Try again later."),
    }
    return str(messages[reason])


def _result(
    reason: str, *, status: str | None = None, revoked_at: datetime | None = None
) -> ValidationResult:
    return ValidationResult(
        valid=reason == VALID,
        reason=reason,
        message=_message(reason),
        status=status,
        revoked_at=revoked_at,
    )


def _certificate(value: CertificateInput) -> x509.Certificate:
    if isinstance(value, x509.Certificate):
        return value
    return load_certificate(value)


def _chain(values: Iterable[CertificateInput] | bytes | str | None) -> list[x509.Certificate]:
    if values is None:
        return []
    if isinstance(values, bytes | str):
        return load_certificates(values)
    return [_certificate(value) for value in values]


T = TypeVar("T")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end from synchronous code, in a thread of its own when this
    thread already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(asyncio.run, coroutine).result()


def _asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def _names_ocsp(certificate: x509.Certificate) -> bool:
    try:
        access = certificate.extensions.get_extension_for_class(x509.AuthorityInformationAccess)
    except x509.ExtensionNotFound:
        return False
    return any(d.access_method == AuthorityInformationAccessOID.OCSP for d in access.value)


def validate_certificate(
    certificate: CertificateInput,
    chain: Iterable[CertificateInput] | bytes | str | None = None,
    *,
    purpose: str,
    at: datetime | None = None,
) -> ValidationResult:
    """Whether ``certificate`` (with the CA certificates in ``chain``, any order) chains to
    the platform root, is valid at ``at`` (default: now), may be used for ``purpose``
    (see :data:`PURPOSES`) and was not revoked at that time. Never raises for bad input."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r}; known: {sorted(PURPOSES)}")
    try:
        leaf = _certificate(certificate)
        intermediates = _chain(chain)
    except (ValueError, TypeError, OSError):
        return _result(MALFORMED)
    key = (
        leaf.fingerprint(hashes.SHA256()),
        tuple(item.fingerprint(hashes.SHA256()) for item in intermediates),
        purpose,
        at,
        index_version(directory=pki_directory()),
    )
    cached = _cache_get(key)
    if cached is not None:
        return _result(cached[0], status=cached[1], revoked_at=cached[2])
    try:
        result = _validate(leaf, intermediates, purpose=purpose, at=at)
    except ValueError as error:  # a name or an extension that loads but cannot be read
        logger.info("validation_malformed", error=str(error)[:200])
        return _result(MALFORMED)
    if result.reason not in _NOT_CACHED:
        if at is not None:
            seconds = _CACHE_SECONDS_AT
        else:
            left = (leaf.not_valid_after_utc - datetime.now(UTC)).total_seconds()
            seconds = min(_CACHE_SECONDS_NOW, max(left, 0.0))
        _cache_put(key, (result.reason, result.status, result.revoked_at), seconds)
    return result


#: How long a result is kept: "now" moves on (a certificate expires), a given moment does
#: not. Anything that changes a status (issuing, revoking) changes the PKI's index, which is
#: part of the key, so a revocation is seen at once.
_CACHE_SECONDS_NOW = 30.0
_CACHE_SECONDS_AT = 300.0
_CACHE_SIZE = 2048
#: Results that depend on something passing (the responder down) or on "now" reaching a
#: certificate's start are asked again each time.
_NOT_CACHED = {UNAVAILABLE, NOT_YET_VALID, MALFORMED}
_cache: OrderedDict[tuple[Any, ...], tuple[float, tuple[str, str | None, datetime | None]]] = (
    OrderedDict()
)
_cache_lock = threading.Lock()


def _cache_get(key: tuple[Any, ...]) -> tuple[str, str | None, datetime | None] | None:
    with _cache_lock:
        found = _cache.get(key)
        if found is None:
            return None
        if found[0] < time.monotonic():
            del _cache[key]
            return None
        _cache.move_to_end(key)
        return found[1]


def _cache_put(
    key: tuple[Any, ...], value: tuple[str, str | None, datetime | None], seconds: float
) -> None:
    if seconds <= 0:
        return
    with _cache_lock:
        _cache[key] = (time.monotonic() + seconds, value)
        _cache.move_to_end(key)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)


def cache_clear() -> None:
    """Forget every result kept (tests that rebuild the PKI in place)."""
    with _cache_lock:
        _cache.clear()


def _validate(
    leaf: x509.Certificate,
    intermediates: list[x509.Certificate],
    *,
    purpose: str,
    at: datetime | None,
) -> ValidationResult:
    moment = (at or datetime.now(UTC)).astimezone(UTC)
    directory = pki_directory()
    try:
        root, issuing = ca_certificates(directory=directory)
    except PkiError as error:
        logger.error("validation_pki_missing", error=str(error))
        return _result(UNAVAILABLE)

    issuer = next(
        (candidate for candidate in [issuing, *intermediates] if candidate.subject == leaf.issuer),
        None,
    )
    if issuer is None or issuer != issuing:
        return _result(UNTRUSTED)
    try:
        leaf.verify_directly_issued_by(issuing)
    except Exception:  # a bad signature, another key of the same name: not ours
        return _result(UNTRUSTED)
    if moment < leaf.not_valid_before_utc:
        return _result(NOT_YET_VALID)
    if moment > leaf.not_valid_after_utc:
        return _result(EXPIRED)

    response_der = ocsp_response(ocsp_request(leaf, issuing, nonce=os.urandom(16)))
    response = ocsp.load_der_ocsp_response(response_der)
    if response.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
        logger.error("validation_ocsp_failed", status=response.response_status.name)
        return _result(UNAVAILABLE)
    status = response.certificate_status
    revoked_at = response.revocation_time_utc if status is ocsp.OCSPCertStatus.REVOKED else None
    status_name = status.name.lower()
    if status is ocsp.OCSPCertStatus.UNKNOWN:
        return _result(UNKNOWN, status=status_name)
    if revoked_at is not None and revoked_at <= moment:
        return _result(REVOKED, status=status_name, revoked_at=revoked_at)

    key_usage, extended_key_usage = PURPOSES[purpose]
    # The leaf's revocation is decided above from the responder's answer, which the
    # validator also checks (signature, delegation); the CAs are the platform's own.
    context = ValidationContext(
        trust_roots=[_asn1(root)],
        other_certs=[_asn1(issuing)],
        moment=moment,
        allow_fetching=False,
        ocsps=[response_der],
        revinfo_policy=CertRevTrustPolicy(
            RevocationCheckingPolicy(
                ee_certificate_rule=(
                    RevocationCheckingRule.OCSP_REQUIRED
                    if revoked_at is None and _names_ocsp(leaf)
                    # Revoked after `at` (good then), or a certificate that names no
                    # responder (the validator looks for answers by the URL it names).
                    else RevocationCheckingRule.NO_CHECK
                ),
                intermediate_ca_cert_rule=RevocationCheckingRule.NO_CHECK,
            ),
            retroactive_revinfo=True,
        ),
    )
    validator = CertificateValidator(_asn1(leaf), validation_context=context)
    try:
        _run(
            validator.async_validate_usage(
                key_usage=key_usage,
                extended_key_usage=extended_key_usage or None,
                extended_optional=not extended_key_usage,
            )
        )
    except validator_errors.RevokedError:
        return _result(REVOKED, status=status_name, revoked_at=revoked_at)
    except validator_errors.ExpiredError:
        return _result(EXPIRED, status=status_name)
    except validator_errors.NotYetValidError:
        return _result(NOT_YET_VALID, status=status_name)
    except validator_errors.InvalidCertificateError as error:
        logger.info("validation_refused", purpose=purpose, error=str(error))
        return _result(WRONG_USAGE, status=status_name)
    except validator_errors.InsufficientRevinfoError as error:
        logger.error("validation_revinfo_refused", error=str(error))
        return _result(UNAVAILABLE, status=status_name)
    except (validator_errors.PathBuildingError, validator_errors.PathValidationError) as error:
        logger.info("validation_untrusted", error=str(error))
        return _result(UNTRUSTED, status=status_name)
    return _result(VALID, status=status_name, revoked_at=revoked_at)
