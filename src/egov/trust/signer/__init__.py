"""``egov signer``: the local e-ID program (ADR 0010, docs/trust.md).

Free of Django: it runs on the person's computer, with their PKCS#12 file or PKCS#11 token.
"""

from egov.trust.signer.eids import (
    AUTHENTICATION,
    SIGNING,
    EidError,
    Pkcs11Eid,
    Pkcs12Eid,
    WrongSecret,
    authentication_payload,
    eids_from_paths,
)
from egov.trust.signer.pkcs12 import (
    EidKeys,
    Pkcs12Error,
    WrongPassword,
    eid_pkcs12_certificates,
    eid_pkcs12_open,
    eid_pkcs12_write,
)
from egov.trust.signer.server import (
    DEFAULT_PORT,
    REQUEST_SECONDS,
    Signer,
    SignerStartError,
    origin_normalise,
    signer_serve,
    signer_start,
)

__all__ = [
    "AUTHENTICATION",
    "DEFAULT_PORT",
    "REQUEST_SECONDS",
    "SIGNING",
    "EidError",
    "EidKeys",
    "Pkcs11Eid",
    "Pkcs12Eid",
    "Pkcs12Error",
    "Signer",
    "SignerStartError",
    "WrongPassword",
    "WrongSecret",
    "authentication_payload",
    "eid_pkcs12_certificates",
    "eid_pkcs12_open",
    "eid_pkcs12_write",
    "eids_from_paths",
    "origin_normalise",
    "signer_serve",
    "signer_start",
]
