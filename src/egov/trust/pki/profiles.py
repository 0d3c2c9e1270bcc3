"""Certificate profiles: what an end-entity certificate may be used for and for how long.

The PKI code knows no profile by name; it reads this registry. Trust services add their own
(agency document signing, the timestamp authority, officials, citizens) with
:func:`profile_register` instead of changing the issuing code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

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
