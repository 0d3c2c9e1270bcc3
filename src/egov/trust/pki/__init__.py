"""The platform PKI: root CA → issuing CA → end-entity certificates by profile.

Free of Django, so the exchange gateway can use it in its own process.
"""

from egov.trust.pki.ca import (
    IssuedCertificate,
    PkiError,
    ca_certificates,
    certificate_current,
    certificate_issue,
    certificate_revoke,
    certificates_list,
    crl_issue,
    issued_paths,
    pki_init,
    revoked_serials,
)
from egov.trust.pki.keys import (
    certificate_pem,
    fingerprint_sha256,
    load_certificate,
    load_certificates,
    load_private_key,
    sign,
    verify,
)
from egov.trust.pki.profiles import PROFILES, Profile, profile_get, profile_register

__all__ = [
    "PROFILES",
    "IssuedCertificate",
    "PkiError",
    "Profile",
    "ca_certificates",
    "certificate_current",
    "certificate_issue",
    "certificate_pem",
    "certificate_revoke",
    "certificates_list",
    "crl_issue",
    "fingerprint_sha256",
    "issued_paths",
    "load_certificate",
    "load_certificates",
    "load_private_key",
    "pki_init",
    "profile_get",
    "profile_register",
    "revoked_serials",
    "sign",
    "verify",
]
