"""The platform PKI: root CA → issuing CA → end-entity certificates by profile.

Free of Django, so the exchange gateway can use it in its own process.
"""

from egov.trust.pki.ca import (
    IssuedCertificate,
    PkiError,
    ca_certificates,
    certificate_current,
    certificate_entry,
    certificate_issue,
    certificates_list,
    index_version,
    issued_paths,
    issuing_import,
    keys_encrypt,
    pkcs12_write,
    pki_init,
    root_init,
    root_sign,
)
from egov.trust.pki.keys import (
    certificate_pem,
    fingerprint_sha256,
    key_passphrase,
    key_passphrase_configure,
    load_certificate,
    load_certificates,
    load_private_key,
    sign,
    tls_key_password,
    verify,
)
from egov.trust.pki.profiles import PROFILES, Profile, profile_get, profile_register
from egov.trust.pki.revocation import (
    certificate_revoke,
    crl_current,
    crl_issue,
    revoked_serials,
)

__all__ = [
    "PROFILES",
    "IssuedCertificate",
    "PkiError",
    "Profile",
    "ca_certificates",
    "certificate_current",
    "certificate_entry",
    "certificate_issue",
    "certificate_pem",
    "certificate_revoke",
    "certificates_list",
    "crl_current",
    "crl_issue",
    "fingerprint_sha256",
    "index_version",
    "issued_paths",
    "issuing_import",
    "key_passphrase",
    "key_passphrase_configure",
    "keys_encrypt",
    "load_certificate",
    "load_certificates",
    "load_private_key",
    "pkcs12_write",
    "pki_init",
    "profile_get",
    "profile_register",
    "revoked_serials",
    "root_init",
    "root_sign",
    "sign",
    "tls_key_password",
    "verify",
]
