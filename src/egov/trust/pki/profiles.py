"""Certificate profiles: what an end-entity certificate may be used for and for how long.

The PKI code knows no profile by name; it reads this registry. Trust services add their own
(agency document signing, the timestamp authority, officials, citizens) with
:func:`profile_register` instead of changing the issuing code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

from egov.audit.signing import LEDGER_KEY_PURPOSE

#: RFC 9336's id-kp-documentSigning: a certificate an agency or an official signs
#: documents with; validation of a document requires it, so no other certificate of the
#: PKI (a gateway's, the timestamp authority's) makes a valid-looking decision.
DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")
#: The audit ledger's tree heads (egov's own purpose; see egov.audit.signing).
LEDGER_SIGNING = ObjectIdentifier(LEDGER_KEY_PURPOSE)

#: The key usage bits of RFC 5280 §4.2.1.3 an end-entity certificate may carry.
KEY_USAGES = frozenset(
    {
        "digital_signature",
        "content_commitment",  # nonRepudiation
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
    }
)


@dataclass(frozen=True)
class Profile:
    name: str
    key_usages: frozenset[str]
    extended_key_usages: tuple[ObjectIdentifier, ...] = ()
    validity: timedelta = timedelta(days=730)
    description: str = ""
    #: Whether the extended key usage extension is marked critical (RFC 3161 requires it
    #: for a timestamp authority).
    extended_key_usage_critical: bool = False

    def __post_init__(self) -> None:
        unknown = set(self.key_usages) - KEY_USAGES
        if unknown:
            raise ValueError(f"unknown key usages: {sorted(unknown)}")
        if not self.key_usages:
            raise ValueError("a profile needs at least one key usage")


PROFILES: dict[str, Profile] = {}


def profile_register(profile: Profile) -> Profile:
    """Add (or replace) a profile; returns it so a module can keep a reference."""
    PROFILES[profile.name] = profile
    return profile


def profile_get(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(f"unknown certificate profile {name!r}; known: {sorted(PROFILES)}") from None


profile_register(
    Profile(
        name="gateway-tls",
        key_usages=frozenset({"digital_signature"}),
        extended_key_usages=(ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH),
        validity=timedelta(days=730),
        description="Mutual TLS between exchange gateways.",
    )
)
profile_register(
    Profile(
        name="gateway-signing",
        key_usages=frozenset({"digital_signature", "content_commitment"}),
        validity=timedelta(days=730),
        description="A gateway signs the messages it sends.",
    )
)
profile_register(
    Profile(
        name="central-signing",
        key_usages=frozenset({"digital_signature", "content_commitment"}),
        validity=timedelta(days=730),
        description="The central registry signs the global configuration.",
    )
)
profile_register(
    Profile(
        name="information-system",
        key_usages=frozenset({"digital_signature"}),
        extended_key_usages=(ExtendedKeyUsageOID.CLIENT_AUTH,),
        validity=timedelta(days=730),
        description="An information system authenticates itself on its gateway's client side.",
    )
)
profile_register(
    Profile(
        name="document-signing",
        key_usages=frozenset({"digital_signature", "content_commitment"}),
        # emailProtection beside it: NSS (poppler's pdfsig, Firefox) and Adobe accept a
        # PDF signer with an extended key usage only when it names emailProtection.
        extended_key_usages=(DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION),
        validity=timedelta(days=1095),
        description="An agency signs the documents it issues (decisions, extracts, receipts).",
    )
)
profile_register(
    Profile(
        name="official-signing",
        key_usages=frozenset({"digital_signature", "content_commitment"}),
        extended_key_usages=(DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION),
        validity=timedelta(days=730),
        description="An official signs documents in their own name and role.",
    )
)
profile_register(
    Profile(
        name="tsa",
        key_usages=frozenset({"digital_signature", "content_commitment"}),
        extended_key_usages=(ExtendedKeyUsageOID.TIME_STAMPING,),
        extended_key_usage_critical=True,
        validity=timedelta(days=1825),
        description="The RFC 3161 timestamp authority (its only extended key usage is "
        "timeStamping, critical).",
    )
)
profile_register(
    Profile(
        name="ocsp-responder",
        key_usages=frozenset({"digital_signature"}),
        extended_key_usages=(ExtendedKeyUsageOID.OCSP_SIGNING,),
        validity=timedelta(days=365),
        description="Signs OCSP responses for the issuing CA (RFC 6960 delegated responder).",
    )
)
profile_register(
    Profile(
        name="citizen-authentication",
        key_usages=frozenset({"digital_signature"}),
        extended_key_usages=(ExtendedKeyUsageOID.CLIENT_AUTH,),
        validity=timedelta(days=1825),
        description="A person's e-ID authentication key (logging in), as on an ID card.",
    )
)
profile_register(
    Profile(
        name="citizen-signing",
        key_usages=frozenset({"content_commitment"}),
        validity=timedelta(days=1825),
        description="A person's e-ID signing key (non-repudiation only), as on an ID card.",
    )
)
profile_register(
    Profile(
        name="ledger-signing",
        key_usages=frozenset({"digital_signature"}),
        extended_key_usages=(LEDGER_SIGNING,),
        validity=timedelta(days=1825),
        description="The audit ledger signs its tree heads.",
    )
)
