"""A person's e-ID: two keys and two certificates, as on an ID card, and the login with it.

The platform issues the certificates (profiles ``citizen-authentication`` and
``citizen-signing``, subject with the person's name and ``PNO<country>-<personal number>``)
and hands both keys to the person in one password-protected PKCS#12 file: it keeps no
citizen's key (ADR 0010).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from datetime import timedelta
from typing import Any

import structlog
from cryptography import x509
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from egov.audit import record
from egov.core.errors import ApplicationError
from egov.identity.models import EidChallenge, LevelOfAssurance, User
from egov.identity.selectors import SESSION_LOA
from egov.trust.pki import ca_certificates, load_certificates, verify
from egov.trust.signer import (
    AUTHENTICATION,
    SIGNING,
    authentication_payload,
    eid_pkcs12_write,
    origin_normalise,
)

logger = structlog.get_logger(__name__)

#: Which certificate profile each of the two keys gets.
EID_PROFILES = {AUTHENTICATION: "citizen-authentication", SIGNING: "citizen-signing"}
MIN_PASSWORD_LENGTH = 8


#: The session's secret that binds a challenge to it (only its hash is in the database).
SESSION_EID_BINDING = "egov_eid_binding"
METHOD = "eid"


class EidIssueError(ApplicationError):
    pass


class EidLoginError(ApplicationError):
    """The e-ID login or step-up is refused; ``code`` says why (for the ledger and tests)."""

    http_status = 400


def eid_certificate_name(personal_number: str, purpose: str) -> str:
    """The name of a person's e-ID certificate in the PKI's index."""
    return f"eid-{personal_number.lower()}-{purpose}"


def eid_issue(*, user: User, password: str, actor: Any = None) -> bytes:
    """Issue the person a new e-ID and return it as a PKCS#12 file protected by
    ``password``. Earlier e-IDs stay valid until revoked (``egov pki revoke``)."""
    from egov.trust.keys import pki_directory
    from egov.trust.setup import platform_certificate_issue

    if not user.personal_number:
        raise EidIssueError(
            _("An e-ID needs the person's identification number; this account has none.")
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise EidIssueError(
            _("The e-ID's password must have at least %(count)s characters.")
            % {"count": MIN_PASSWORD_LENGTH}
        )
    common_name = " ".join(part for part in (user.first_name, user.last_name) if part)
    entries = {}
    for purpose, profile in EID_PROFILES.items():
        issued = platform_certificate_issue(
            profile=profile,
            name=eid_certificate_name(user.personal_number, purpose),
            common_name=common_name,
            given_name=user.first_name,
            surname=user.last_name,
            personal_number=user.personal_number,
            keep_key=False,
            actor=actor,
        )
        assert issued.private_key is not None and issued.certificate is not None
        entries[purpose] = (issued.private_key, issued.certificate)
    _root, issuing = ca_certificates(directory=pki_directory())
    logger.info("eid_issued", user=user.pk)
    return eid_pkcs12_write(entries=entries, chain=[issuing], password=password)


def _sha256(value: str | bytes) -> str:
    data = value.encode() if isinstance(value, str) else value
    return hashlib.sha256(data).hexdigest()


def portal_origin() -> str:
    """The origin logins are bound to: EGOV_BASE_URL's, whatever address a request used."""
    return origin_normalise(settings.PORTAL_BASE_URL) or ""


def eid_challenge_issue(*, request: HttpRequest) -> str:
    """A fresh one-time challenge (32 random bytes, base64) bound to this session."""
    binding = request.session.get(SESSION_EID_BINDING)
    if not isinstance(binding, str) or not binding:
        binding = secrets.token_urlsafe(32)
        request.session[SESSION_EID_BINDING] = binding
    nonce = secrets.token_bytes(32)
    now = timezone.now()
    EidChallenge.objects.filter(expires_at__lt=now - timedelta(days=1)).delete()
    EidChallenge.objects.create(
        nonce_hash=_sha256(nonce),
        session_binding=_sha256(binding),
        origin=portal_origin(),
        expires_at=now + timedelta(seconds=settings.EID_CHALLENGE_SECONDS),
    )
    return base64.b64encode(nonce).decode("ascii")


def personal_number_of(certificate: x509.Certificate) -> str:
    """The personal number in a person's certificate (serialNumber ``PNO<country>-<number>``,
    ETSI EN 319 412-1), or ""."""
    values = certificate.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    serial = str(values[0].value) if values else ""
    if len(serial) > 6 and serial.startswith("PNO") and serial[5] == "-":
        return serial[6:].upper()
    return ""


def _names_read(certificates: list[x509.Certificate]) -> list[x509.Name]:
    """The subject and issuer of each certificate; raises ValueError for one that cannot be
    parsed."""
    return [name for item in certificates for name in (item.subject, item.issuer)]


def _refuse(code: str, message: str, *, subject: str = "", actor: Any = "") -> EidLoginError:
    with transaction.atomic():
        record(
            "login.failed",
            actor=actor,
            subject=subject,
            data={"method": METHOD, "reason": code},
        )
    logger.info("eid_login_refused", reason=code)
    return EidLoginError(message, code=code)


def _b64(value: str) -> bytes | None:
    try:
        return base64.b64decode(value.strip(), validate=True) if value else None
    except (binascii.Error, ValueError):
        return None


def _challenge_consume(*, request: HttpRequest, nonce: bytes) -> EidChallenge:
    """Mark the challenge used, once, in one UPDATE: two processes given the same answer
    cannot both succeed."""
    binding = request.session.get(SESSION_EID_BINDING)
    now = timezone.now()
    nonce_hash = _sha256(nonce)
    with transaction.atomic():
        consumed = EidChallenge.objects.filter(
            nonce_hash=nonce_hash,
            session_binding=_sha256(binding) if isinstance(binding, str) else "",
            used_at__isnull=True,
            expires_at__gt=now,
        ).update(used_at=now)
    challenge = EidChallenge.objects.filter(nonce_hash=nonce_hash).first()
    if consumed == 1 and challenge is not None:
        return challenge
    if challenge is None or challenge.session_binding != (
        _sha256(binding) if isinstance(binding, str) else ""
    ):
        raise _refuse(
            "unknown_challenge",
            _("This e-ID login was not started on this page. Start again."),
        )
    if challenge.used_at is not None:
        raise _refuse(
            "replayed",
            _("This e-ID login was already used. Start again."),
        )
    raise _refuse(
        "challenge_expired",
        _("The e-ID login took too long. Start again."),
    )


def eid_verify(
    *, request: HttpRequest, challenge: str, certificate: str, chain: str, signature: str
) -> User:
    """The person behind an answer of the signer: the challenge is this session's, unused
    and fresh; the signature is over SHA-256(origin) ‖ SHA-256(challenge) by the
    certificate's key; the certificate is valid for authentication now (chain to the
    platform root, OCSP); and an active account has its personal number."""
    from egov.trust.validation import validate_certificate

    nonce = _b64(challenge)
    signature_der = _b64(signature)
    if not nonce or not signature_der or not certificate.strip():
        raise _refuse(
            "malformed",
            _(
                "The e-ID login did not arrive whole. Check that the page may run its "
                "scripts and that egov signer is running, then try again."
            ),
        )
    issued = _challenge_consume(request=request, nonce=nonce)
    try:
        # Bytes, never text: the loader would take text without a PEM marker for a path.
        leaf = load_certificates(certificate.strip().encode())[0]
        intermediates = load_certificates(chain.strip().encode()) if chain.strip() else []
        # cryptography reads a certificate's names only when asked: one holding an invalid
        # string (a UTF8String that is not UTF-8) loads, and reading the name raises
        # ValueError. Every name read below (the subject's personal number, the issuer
        # looked up in the chain) is read here, where the answer is refused as malformed.
        _names_read([leaf, *intermediates])
        personal_number = personal_number_of(leaf)
    except (ValueError, IndexError, UnicodeError):
        raise _refuse("malformed", _("The e-ID's certificate cannot be read.")) from None
    if issued.origin != portal_origin():
        raise _refuse(
            "other_origin",
            _("This e-ID login was made for another site. Start again."),
            subject=personal_number,
        )
    if not verify(leaf, signature_der, authentication_payload(issued.origin, nonce)):
        raise _refuse(
            "bad_signature",
            _("The e-ID's signature does not match. Start again."),
            subject=personal_number,
        )
    result = validate_certificate(leaf, intermediates, purpose="authentication")
    if not result.valid:
        raise _refuse(
            result.reason,
            _("Your e-ID cannot be used to log in: %(reason)s") % {"reason": result.message},
            subject=personal_number,
        )
    user = (
        User.objects.filter(personal_number=personal_number, is_active=True).first()
        if personal_number
        else None
    )
    if user is None:
        raise _refuse(
            "unknown_person",
            _(
                "No account has the identification number of this e-ID. Create an account "
                "with your identification number first, then log in with the e-ID."
            ),
            subject=personal_number,
        )
    request.session.pop(SESSION_EID_BINDING, None)
    return user


def eid_login(
    *, request: HttpRequest, challenge: str, certificate: str, chain: str, signature: str
) -> User:
    """Log the person in at the high level of assurance with the signer's answer."""
    from egov.identity.services import session_start

    user = eid_verify(
        request=request,
        challenge=challenge,
        certificate=certificate,
        chain=chain,
        signature=signature,
    )
    if request.user.is_authenticated and request.user.pk != user.pk:
        from django.contrib.auth import logout

        logout(request)
    session_start(request=request, user=user, level=LevelOfAssurance.HIGH)
    logger.info("eid_login_succeeded", user=user.pk)
    return user


def eid_step_up(
    *, request: HttpRequest, challenge: str, certificate: str, chain: str, signature: str
) -> User:
    """Raise a signed-in person's session to high with their own e-ID."""
    user = eid_verify(
        request=request,
        challenge=challenge,
        certificate=certificate,
        chain=chain,
        signature=signature,
    )
    if not request.user.is_authenticated or request.user.pk != user.pk:
        raise _refuse(
            "other_person",
            _("This e-ID belongs to someone else than the person logged in."),
            subject=user.personal_number or "",
            actor=request.user if request.user.is_authenticated else "",
        )
    before = request.session.get(SESSION_LOA)
    request.session.cycle_key()  # a stronger session gets a new key
    request.session[SESSION_LOA] = LevelOfAssurance.HIGH
    if before != LevelOfAssurance.HIGH and user.personal_number_proven_at is None:
        # A session the account's password opened, now confirmed by the e-ID that carries
        # the account's number: one person holds both, the number is theirs. (An e-ID
        # login alone says nothing of who set the password.)
        user.personal_number_proven_at = timezone.now()
        User.objects.filter(pk=user.pk, personal_number_proven_at__isnull=True).update(
            personal_number_proven_at=user.personal_number_proven_at
        )
    with transaction.atomic():
        record(
            "login.assurance_raised",
            actor=user,
            subject=user.personal_number or "",
            data={"method": METHOD, "level": LevelOfAssurance.HIGH.value},
        )
    logger.info("eid_step_up_succeeded", user=user.pk)
    return user
