"""Signed applications: what the applicant signs, and whether a signature holds.

A service whose definition says ``signature: required`` is submitted with a CMS signature
made by the person's e-ID in the local signer (ADR 0010). What is signed is the canonical
JSON (sorted keys, UTF-8, no spaces) of the service code, the definition version, the
answers and each attachment's code, file name and SHA-256; the signer signs its SHA-256
as a detached CMS SignedData whose messageDigest is that digest.

The server never trusts the page: it recomputes the content from the draft (or the
application), checks the CMS with pyHanko's integrity check, the signer's certificate with
``egov.trust.validation`` both at the signing time and at the moment the signature arrives,
and that the signer is the applicant (or a director of the organisation they act for). The
signing time is the CMS ``signingTime``, which the signer writes: on its own it would let a key
whose certificate was revoked or expired minutes ago sign "before" that. The CMS, the signed
bytes and the digest are kept with the application, so the back office checks them again
whenever it looks, with the certificate as it was when the platform received the signature.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog
from asn1crypto import cms as asn1_cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from pyhanko.sign.validation.generic_cms import validate_sig_integrity

from egov import audit
from egov.cases.answers import answers_clean
from egov.cases.models import Application, ApplicationSignature, Draft
from egov.cases.registry_data import prefill_values
from egov.core.errors import ApplicationError
from egov.identity.models import Representation, User

logger = structlog.get_logger(__name__)

#: The definition key and its one value.
SIGNATURE_KEY = "signature"
REQUIRED = "required"

#: The most a posted CMS (and each certificate list) may weigh: an e-ID's CMS is a few KB.
MAX_CMS_BYTES = 64 * 1024

#: ETSI EN 319 412-1 natural-person identifier: PNO, the country, a hyphen, the number.
_PERSONAL_NUMBER = re.compile(r"^PNO([A-Z]{2})-(.+)$")


class SignatureRefused(ApplicationError):
    """The signature cannot be accepted; the message says what to do. Nothing is written."""

    code = "signature_invalid"
    http_status = 400


class SignatureMissing(SignatureRefused):
    code = "signature_required"


def signature_required(definition: Mapping[str, Any]) -> bool:
    return definition.get(SIGNATURE_KEY) == REQUIRED


# --- what is signed -------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedContent:
    """The exact bytes an applicant signs and their SHA-256."""

    content: bytes
    digest: bytes

    @property
    def digest_hex(self) -> str:
        return self.digest.hex()

    @property
    def digest_base64(self) -> str:
        return base64.b64encode(self.digest).decode("ascii")


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8"
    )


def submission_content(
    *,
    service_code: str,
    version_number: int,
    answers: Mapping[str, Any],
    attachments: Iterable[tuple[str, str, str]],
) -> SignedContent:
    """The signed submission: ``attachments`` are (requirement code, file name, SHA-256),
    listed in a fixed order so the same files always give the same bytes."""
    payload = {
        "service": service_code,
        "version": version_number,
        "answers": dict(answers),
        "attachments": [
            {"code": code, "name": name, "sha256": sha256}
            for code, name, sha256 in sorted(attachments)
        ],
    }
    content = canonical_json(payload)
    return SignedContent(content=content, digest=hashlib.sha256(content).digest())


def draft_signed_content(draft: Draft, *, definition: Mapping[str, Any]) -> SignedContent:
    """What submitting the draft would store: its answers as ``application_submit`` cleans
    them (the register's values over what was typed) and its files."""
    answers = answers_clean(definition=definition, data={**draft.data, **prefill_values(draft)})
    return submission_content(
        service_code=draft.version.service.code,
        version_number=draft.version.number,
        answers=answers,
        attachments=[
            (item.requirement, item.original_name, item.sha256) for item in draft.attachments.all()
        ],
    )


def application_signed_content(application: Application) -> SignedContent:
    """The content the application holds now; a signature over anything else is broken."""
    files = application.attachments.filter(information_request__isnull=True)
    return submission_content(
        service_code=application.service.code,
        version_number=application.version.number,
        answers=application.data,
        attachments=[(item.requirement, item.original_name, item.sha256) for item in files],
    )


def signature_description(*, service_name: str, organisation: str = "") -> str:
    """What the signer shows the person before they allow signing."""
    if organisation:
        return _("Application for “%(service)s” on behalf of %(organisation)s") % {
            "service": service_name,
            "organisation": organisation,
        }
    return _("Application for “%(service)s”") % {"service": service_name}


# --- the CMS --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignatureSubmission:
    """What the page (or an API client) sends: the CMS and, optionally, the signer's
    certificate and chain as the signer returned them."""

    cms: bytes
    certificates: tuple[x509.Certificate, ...] = ()


def _pem_certificates(text: str) -> list[x509.Certificate]:
    text = (text or "").strip()
    if not text:
        return []
    if len(text) > MAX_CMS_BYTES:
        raise SignatureRefused(_("The signer's certificate is too large."))
    try:
        return list(x509.load_pem_x509_certificates(text.encode("ascii")))
    except (ValueError, UnicodeEncodeError):
        raise SignatureRefused(_("The signer's certificate could not be read.")) from None


def signature_submission_parse(
    *, cms_base64: str, certificate_pem: str = "", chain_pem: str = ""
) -> SignatureSubmission:
    """Decode what was posted; anything malformed is a translated refusal."""
    cms_base64 = (cms_base64 or "").strip()
    if not cms_base64:
        raise SignatureMissing(_("Sign the application with your e-ID before sending it."))
    if len(cms_base64) > MAX_CMS_BYTES * 4 // 3 + 4:
        raise SignatureRefused(_("The signature is too large."))
    try:
        cms_der = base64.b64decode(cms_base64, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureRefused(_("The signature could not be read. Sign again.")) from None
    certificates = _pem_certificates(certificate_pem) + _pem_certificates(chain_pem)
    return SignatureSubmission(cms=cms_der, certificates=tuple(certificates))


@dataclass(frozen=True)
class CmsSigner:
    """A CMS whose signature is intact over the expected digest, and who made it."""

    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    signed_at: datetime.datetime | None


def _to_asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))


def _from_asn1(certificate: asn1_x509.Certificate) -> x509.Certificate:
    return x509.load_der_x509_certificate(certificate.dump())


def _signer_certificate(
    signer_info: asn1_cms.SignerInfo, candidates: Iterable[asn1_x509.Certificate]
) -> asn1_x509.Certificate | None:
    sid = signer_info["sid"]
    for candidate in candidates:
        if sid.name == "issuer_and_serial_number":
            if (
                candidate.issuer == sid.chosen["issuer"]
                and candidate.serial_number == sid.chosen["serial_number"].native
            ):
                return candidate
        elif candidate.key_identifier == sid.chosen.native:
            return candidate
    return None


def _signing_time(signer_info: asn1_cms.SignerInfo) -> datetime.datetime | None:
    for attribute in signer_info["signed_attrs"]:
        if attribute["type"].native == "signing_time":
            values = attribute["values"]
            if len(values) != 1:
                return None
            value = values[0].native
            return value if isinstance(value, datetime.datetime) else None
    return None


def cms_verify(
    cms_der: bytes, *, digest: bytes, certificates: Iterable[x509.Certificate] = ()
) -> CmsSigner:
    """Check that ``cms_der`` is a detached SignedData with one signer whose signature is
    valid and whose messageDigest is ``digest``. It says nothing about trust: the signer's
    certificate is checked by the caller."""
    if len(cms_der) > MAX_CMS_BYTES:
        raise SignatureRefused(_("The signature is too large."))
    unreadable = _("The signature could not be read. Sign again.")
    try:
        content_info = asn1_cms.ContentInfo.load(cms_der, strict=True)
        if content_info["content_type"].native != "signed_data":
            raise SignatureRefused(unreadable)
        signed_data = content_info["content"]
        signer_infos = signed_data["signer_infos"]
        encapsulated = signed_data["encap_content_info"]
        detached = encapsulated["content"].native is None
        embedded = [item.chosen for item in signed_data["certificates"] or []]
        embedded = [item for item in embedded if isinstance(item, asn1_x509.Certificate)]
        for item in embedded:
            _from_asn1(item)  # parsed now: a broken certificate makes the CMS unreadable
    except SignatureRefused:
        raise
    except (ValueError, TypeError, KeyError):
        raise SignatureRefused(unreadable) from None
    if not detached:
        raise SignatureRefused(_("The signature must be detached: it signs the digest only."))
    if len(signer_infos) != 1:
        raise SignatureRefused(_("The signature must have exactly one signer."))
    signer_info = signer_infos[0]
    if signer_info["signed_attrs"].native is None:
        raise SignatureRefused(unreadable)
    posted = [_to_asn1(item) for item in certificates]
    signer = _signer_certificate(signer_info, [*embedded, *posted])
    if signer is None:
        raise SignatureRefused(_("The signature does not include the signer's certificate."))
    try:
        intact, valid = validate_sig_integrity(
            signer_info, signer, expected_content_type="data", actual_digest=digest
        )
    except Exception as error:  # pyHanko's structural errors: one refusal for all
        logger.info("application_signature_malformed", error=type(error).__name__)
        raise SignatureRefused(unreadable) from None
    if not valid:
        raise SignatureRefused(_("The signature is not valid. Sign again."))
    if not intact:
        raise SignatureRefused(
            _("The signature is not of this application: it may have changed since. Sign again.")
        )
    others: dict[bytes, x509.Certificate] = {}
    for item in [*embedded, *posted]:
        if item.dump() != signer.dump():
            others.setdefault(item.dump(), _from_asn1(item))
    return CmsSigner(
        certificate=_from_asn1(signer),
        chain=tuple(others.values()),
        signed_at=_signing_time(signer_info),
    )


# --- who signed -----------------------------------------------------------------------------


def certificate_personal_number(certificate: x509.Certificate) -> str:
    """The personal number of the subject's serialNumber (``PNOBY-3010180A001PB8``)."""
    for attribute in certificate.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER):
        match = _PERSONAL_NUMBER.match(str(attribute.value))
        if match:
            return match.group(2)
    return ""


def certificate_person_name(certificate: x509.Certificate) -> str:
    subject = certificate.subject

    def first(oid: x509.ObjectIdentifier) -> str:
        values = subject.get_attributes_for_oid(oid)
        return str(values[0].value) if values else ""

    name = " ".join(
        part for part in (first(NameOID.SURNAME), first(NameOID.GIVEN_NAME)) if part
    ).strip()
    return name or first(NameOID.COMMON_NAME)


def signer_may_sign(*, personal_number: str, applicant: User, on_behalf_unp: str = "") -> bool:
    """The applicant themself, or, for an organisation's application, one of its directors
    as the platform knows them (a director's right from the legal entities register)."""
    if not personal_number:
        return False
    if applicant.personal_number and personal_number == applicant.personal_number:
        return True
    if not on_behalf_unp:
        return False
    today = timezone.localdate()
    return (
        Representation.objects.filter(
            unp=on_behalf_unp,
            basis=Representation.Basis.DIRECTOR,
            user__personal_number=personal_number,
            valid_from__lte=today,
        )
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=today))
        .exists()
    )


# --- the certificate's status ---------------------------------------------------------------


@dataclass(frozen=True)
class CertificateStatus:
    valid: bool
    #: For a person, translated.
    reason: str = ""
    #: When the certificate was revoked, also when that came after ``at``.
    revoked_at: datetime.datetime | None = None


def certificate_status(
    certificate: x509.Certificate,
    chain: Iterable[x509.Certificate],
    *,
    at: datetime.datetime,
) -> CertificateStatus:
    """The signing certificate's validity at ``at``: chain to the platform root, validity,
    key usage for signing and revocation (the PKI's own OCSP answer)."""
    from egov.trust.validation import validate_certificate

    result = validate_certificate(certificate, list(chain), purpose="signing", at=at)
    return CertificateStatus(
        valid=result.valid, reason=str(result.message), revoked_at=result.revoked_at
    )


def certificate_status_on_receipt(
    certificate: x509.Certificate,
    chain: Iterable[x509.Certificate],
    *,
    signed_at: datetime.datetime,
    received_at: datetime.datetime,
) -> CertificateStatus:
    """The certificate's status for a signature the platform received at ``received_at``:
    valid then and at the claimed ``signed_at``. ``signed_at`` is only what the signer says
    (up to SIGNATURE_MAX_AGE_SECONDS back), so the moment of receipt, the platform's own, is
    what keeps a revoked or expired certificate out; a revocation after it is reported in
    ``revoked_at`` and leaves the signature valid."""
    chain = list(chain)
    on_receipt = certificate_status(certificate, chain, at=received_at)
    if not on_receipt.valid or signed_at >= received_at:
        return on_receipt
    at_signing = certificate_status(certificate, chain, at=signed_at)
    return on_receipt if at_signing.valid else at_signing


def _received_at(signature: ApplicationSignature) -> datetime.datetime:
    """When the platform received a kept signature, as a moment to check its certificate
    at. The record is written in the submission's transaction, just after the check
    (``created_at``). The PKI stamps a revocation in whole seconds, rounded down: one
    stamped in the second of receipt may have come after it, and submission, which checked
    the exact moment, would have refused one that came before; so such a revocation is
    taken as after receipt (the moment is the end of the second before)."""
    return signature.created_at.replace(microsecond=0) - datetime.timedelta(microseconds=1)


# --- submission -----------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifiedSignature:
    submission: SignatureSubmission
    content: SignedContent
    signer: CmsSigner
    signed_at: datetime.datetime
    personal_number: str
    name: str
    status: CertificateStatus = field(default_factory=lambda: CertificateStatus(valid=True))


def signature_verify(
    *,
    submission: SignatureSubmission,
    content: SignedContent,
    applicant: User,
    on_behalf_unp: str = "",
    now: datetime.datetime | None = None,
) -> VerifiedSignature:
    """Everything a submission's signature must meet, or ``SignatureRefused``."""
    now = now or timezone.now()
    signer = cms_verify(submission.cms, digest=content.digest, certificates=submission.certificates)
    signed_at = signer.signed_at or now
    if signed_at > now + datetime.timedelta(seconds=settings.SIGNATURE_CLOCK_SKEW_SECONDS):
        raise SignatureRefused(
            _(
                "The signature's time lies in the future: check your computer's clock and "
                "sign again."
            )
        )
    if signed_at < now - datetime.timedelta(seconds=settings.SIGNATURE_MAX_AGE_SECONDS):
        raise SignatureRefused(_("The signature is too old. Sign the application again."))
    personal_number = certificate_personal_number(signer.certificate)
    if not signer_may_sign(
        personal_number=personal_number, applicant=applicant, on_behalf_unp=on_behalf_unp
    ):
        raise SignatureRefused(
            _(
                "The e-ID you signed with is not yours or that of a director of the "
                "organisation. Sign with your own e-ID."
            )
        )
    status = certificate_status_on_receipt(
        signer.certificate, signer.chain, signed_at=signed_at, received_at=now
    )
    if not status.valid:
        raise SignatureRefused(
            _("Your e-ID certificate cannot be used for signing: %(reason)s")
            % {"reason": status.reason or _("it is not valid")}
        )
    return VerifiedSignature(
        submission=submission,
        content=content,
        signer=signer,
        signed_at=signed_at,
        personal_number=personal_number,
        name=certificate_person_name(signer.certificate),
        status=status,
    )


def signature_store(
    *, application: Application, verified: VerifiedSignature
) -> ApplicationSignature:
    """Keep the signature with the application, in the submission's transaction."""
    from egov.trust.pki import certificate_pem

    signature = ApplicationSignature.objects.create(
        application=application,
        cms=verified.submission.cms,
        signed_content=verified.content.content,
        digest=verified.content.digest_hex,
        certificate=certificate_pem(verified.signer.certificate),
        chain="".join(certificate_pem(item) for item in verified.signer.chain),
        signer_personal_number=verified.personal_number,
        signer_name=verified.name[:300],
        signed_at=verified.signed_at,
        certificate_status="good",
    )
    audit.record(
        "application.signed",
        actor=application.applicant,
        subject=application.on_behalf_unp or verified.personal_number,
        data={
            "application": application.number,
            "service": application.service.code,
            "digest": verified.content.digest_hex,
            "signer": verified.personal_number,
            "certificate_serial": format(verified.signer.certificate.serial_number, "x"),
            "signed_at": verified.signed_at.isoformat(),
        },
    )
    logger.info("application_signed", application=application.number)
    return signature


# --- checking again -------------------------------------------------------------------------


@dataclass(frozen=True)
class SignatureCheck:
    """What the back office shows about a signed application's signature."""

    signature: ApplicationSignature
    #: The CMS is intact and signs exactly what the application holds now.
    intact: bool
    problem: str
    #: The certificate was valid for signing at the signing time and when the platform
    #: received the signature (``certificate_status_on_receipt``).
    valid_at_signing: bool
    status_at_signing: str
    #: When the certificate was revoked after the platform received the signature (the
    #: signature made before holds).
    revoked_since: datetime.datetime | None

    @property
    def holds(self) -> bool:
        return self.intact and self.valid_at_signing


def signature_check(application: Application) -> SignatureCheck | None:
    """Check a kept signature again: the content against the application as it is now, the
    CMS against the content, the certificate as it was when the platform received the
    signature (and at the signing time), and a revocation since."""
    signature = ApplicationSignature.objects.filter(application=application).first()
    if signature is None:
        return None
    content = application_signed_content(application)
    intact, problem = True, ""
    if content.content != bytes(signature.signed_content) or content.digest_hex != signature.digest:
        intact, problem = False, _("The application no longer matches what was signed.")
    certificates = _pem_certificates(signature.certificate) + _pem_certificates(signature.chain)
    if intact:
        try:
            cms_verify(bytes(signature.cms), digest=content.digest, certificates=certificates)
        except SignatureRefused as refused:
            intact, problem = False, str(refused.message)
    status = certificate_status_on_receipt(
        certificates[0],
        certificates[1:],
        signed_at=signature.signed_at,
        received_at=_received_at(signature),
    )
    return SignatureCheck(
        signature=signature,
        intact=intact,
        problem=problem,
        valid_at_signing=status.valid,
        status_at_signing=status.reason,
        revoked_since=status.revoked_at if status.valid else None,
    )


def signature_blocks_decision(application: Application) -> str:
    """Why the application cannot be decided because of its signature, or "": a signed
    application whose signature is missing or no longer matches it, or whose certificate was
    not valid when the platform received the signature, is not decided. A revocation after
    receipt does not block: the signature was made and received before it."""
    if not signature_required(application.version.definition):
        return ""
    check = signature_check(application)
    if check is None:
        return _("The application has no signature: it cannot be decided.")
    if not check.intact:
        return _(
            "The applicant's signature no longer matches the application: it cannot be decided."
        )
    if not check.valid_at_signing:
        return _(
            "The applicant's e-ID certificate was not valid when the signature was received, "
            "so the application cannot be decided: %(reason)s"
        ) % {"reason": check.status_at_signing}
    return ""
