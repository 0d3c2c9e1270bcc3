"""The PKI as the platform configures it: ``pki init`` with the configured names, certificate
issuance with the configured base address and country, and ``trust setup`` (the certificates
the platform itself signs with). PKI operations are recorded in the audit ledger here, not in
the Django-free :mod:`egov.trust.pki`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from cryptography import x509
from django.conf import settings
from django.db import transaction

from egov.audit import record
from egov.trust.keys import pkcs11_generate, pki_directory
from egov.trust.pki import (
    IssuedCertificate,
    PkiError,
    certificate_current,
    certificate_entry,
    certificate_issue,
    certificate_revoke,
    crl_issue,
    pki_init,
)
from egov.trust.pki.profiles import profile_get

logger = structlog.get_logger(__name__)

OCSP = "ocsp"
X520_NAME_MAX = 64
TSA = "tsa"
LEDGER = "ledger"


def agency_documents_name(code: str) -> str:
    """The well-known name of an agency's document-signing certificate."""
    return f"agency-{code.lower()}-documents"


def official_name(username: str) -> str:
    return f"official-{username}"


def platform_pki_init(
    *,
    offline_root: bool = False,
    actor: Any = None,
    directory: Path | None = None,
    instance: str | None = None,
) -> None:
    """``pki init`` with the configured CA names, organisation and instance."""
    directory = directory or pki_directory()
    existed = (directory / "issuing.cert.pem").exists()
    instance = instance or settings.PKI_INSTANCE
    pki_init(
        directory=directory,
        instance=instance,
        country=settings.PKI_COUNTRY,
        root_name=settings.PKI_ROOT_NAME,
        issuing_name=settings.PKI_ISSUING_NAME,
        organization=settings.PKI_ORGANIZATION,
        offline_root=offline_root,
    )
    if not existed and (directory / "issuing.cert.pem").exists():
        with transaction.atomic():
            record("pki.initialised", actor=actor, data={"instance": instance})


def platform_certificate_issue(
    *,
    profile: str,
    name: str,
    common_name: str,
    organization: str = "",
    pkcs11: bool = False,
    actor: Any = None,
    directory: Path | None = None,
    **attributes: Any,
) -> IssuedCertificate:
    """Issue under the platform PKI with its base address (AIA, CRL) and country; with
    ``pkcs11`` the key pair is made in the token first. Recorded in the ledger."""
    public_key = pkcs11_generate(name) if pkcs11 else attributes.pop("public_key", None)
    if attributes.get("personal_number"):
        attributes.setdefault("country", settings.PKI_COUNTRY)
    with transaction.atomic():
        issued = certificate_issue(
            directory=directory or pki_directory(),
            profile=profile,
            name=name,
            common_name=common_name,
            organization=organization,
            base_url=settings.PORTAL_BASE_URL,
            public_key=public_key,
            **attributes,
        )
        record(
            "pki.issued",
            actor=actor,
            subject=str(attributes.get("personal_number") or ""),
            data={
                "serial": str(issued.serial),
                "name": issued.name,
                "profile": issued.profile,
                "fingerprint": issued.fingerprint,
                "key": issued.key_storage,
            },
        )
    logger.info("pki_certificate_issued", name=name, profile=profile, serial=str(issued.serial))
    return issued


def platform_certificate_revoke(
    *, serial: int, reason: str, actor: Any = None, directory: Path | None = None
) -> dict[str, Any]:
    """Revoke (visible to OCSP and validation at once), re-issue the CRL, record both."""
    directory = directory or pki_directory()
    with transaction.atomic():
        certificate_revoke(directory=directory, serial=serial, reason=reason)
        entry = certificate_entry(directory=directory, serial=serial) or {}
        record(
            "pki.revoked",
            actor=actor,
            data={
                "serial": str(serial),
                "name": entry.get("name", ""),
                "reason": entry.get("reason"),
            },
        )
    logger.info("pki_certificate_revoked", serial=str(serial))
    return entry


def platform_crl_issue(*, actor: Any = None, directory: Path | None = None) -> None:
    with transaction.atomic():
        crl = crl_issue(directory=directory or pki_directory())
        number = crl.extensions.get_extension_for_class(x509.CRLNumber)
        record("pki.crl_issued", actor=actor, data={"number": number.value.crl_number})


@dataclass(frozen=True)
class Agency:
    """What trust setup needs of an agency (from the catalogue, which sits above trust)."""

    code: str
    name: str
    short_name: str = ""

    @property
    def subject_name(self) -> str:
        """X.520 names are at most 64 bytes of UTF-8: the short name stands for a long one."""
        for candidate in (self.name, self.short_name):
            if candidate and len(candidate.encode()) <= X520_NAME_MAX:
                return candidate
        shortest = min((self.name, self.short_name or self.name), key=len)
        return shortest.encode()[:X520_NAME_MAX].decode(errors="ignore")


def _fits_profile(issued: IssuedCertificate, profile: str) -> bool:
    """Whether the certificate carries every extended key usage its profile names now."""
    wanted = set(profile_get(profile).extended_key_usages)
    if not wanted:
        return True
    try:
        certificate = x509.load_pem_x509_certificate(issued.certificate_path.read_bytes())
        usages = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return False
    return wanted <= set(usages)


def trust_setup(*, agencies: Iterable[Agency], actor: Any = None) -> list[IssuedCertificate]:
    """Issue what the platform signs with and is missing: the OCSP responder, the TSA, the
    ledger and each agency's document-signing certificate. Idempotent: a certificate in
    force is kept, unless its profile has since gained a key purpose it lacks (it is then
    revoked as superseded and issued again). Returns the certificates issued now."""
    directory = pki_directory()
    if not (directory / "issuing.cert.pem").exists():
        raise PkiError(f"{directory}: the PKI is not initialised (run `egov pki init`)")
    organization = settings.PKI_ORGANIZATION
    wanted: list[tuple[str, str, str, str]] = [
        (
            OCSP,
            "ocsp-responder",
            f"{settings.PKI_INSTANCE} egov OCSP responder".strip(),
            organization,
        ),
        (TSA, "tsa", f"{settings.PKI_INSTANCE} egov Timestamp Authority".strip(), organization),
        (
            LEDGER,
            "ledger-signing",
            f"{settings.PKI_INSTANCE} egov Audit ledger".strip(),
            organization,
        ),
    ]
    wanted += [
        (
            agency_documents_name(agency.code),
            "document-signing",
            agency.subject_name,
            agency.subject_name,
        )
        for agency in agencies
    ]
    issued = []
    for name, profile, common_name, organisation in wanted:
        current = certificate_current(directory=directory, name=name)
        if current is not None and _fits_profile(current, profile):
            continue
        if current is not None:
            # Issued before its profile gained a key purpose (RFC 9336 documentSigning, the
            # ledger's): validation refuses it for its work, so a new one takes its place.
            logger.warning("trust_certificate_outdated", name=name, profile=profile)
            platform_certificate_revoke(
                serial=current.serial, reason="superseded", actor=actor, directory=directory
            )
        issued.append(
            platform_certificate_issue(
                profile=profile,
                name=name,
                common_name=common_name,
                organization=organisation,
                pkcs11=name in settings.PKI_PKCS11_KEYS,
                actor=actor,
            )
        )
    return issued
