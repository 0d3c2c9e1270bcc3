"""What the platform's PKI tells the audit ledger about its tree heads' certificates.

The ledger sits below :mod:`egov.trust`; this is registered into it at start-up
(``egov.audit.signing.head_trust``). A head counts only when its certificate leads to the
platform root, carries the ledger's key purpose and was neither expired nor revoked when the
head was signed: a head re-signed with any other key (one a person made, a citizen's e-ID) is
refused by ``egov audit verify``.
"""

from __future__ import annotations

from datetime import datetime

from cryptography.hazmat.primitives import serialization

from egov.trust.keys import pki_directory
from egov.trust.pki import PkiError, ca_certificates
from egov.trust.validation import (
    EXPIRED,
    MALFORMED,
    NOT_YET_VALID,
    REVOKED,
    UNAVAILABLE,
    UNTRUSTED,
    WRONG_USAGE,
    validate_certificate,
)

#: The problem, in the words of ``egov audit verify`` (an operator's tool: English).
PROBLEMS = {
    MALFORMED: "its certificate cannot be read",
    UNTRUSTED: "its certificate was not issued by the platform's certificate authority",
    WRONG_USAGE: "its certificate is not one for signing the audit ledger",
    EXPIRED: "its certificate had expired when the head was signed",
    NOT_YET_VALID: "its certificate was not yet valid when the head was signed",
    REVOKED: "its certificate had been revoked when the head was signed",
    UNAVAILABLE: "its certificate's status cannot be checked (is the PKI there?)",
}


class PlatformHeadTrust:
    def anchors(self) -> str:
        try:
            root = ca_certificates(directory=pki_directory())[0]
        except PkiError:
            return ""
        return root.public_bytes(serialization.Encoding.PEM).decode()

    def certificate_problem(self, certificate_pem: str, at: datetime) -> str | None:
        result = validate_certificate(certificate_pem, purpose="ledger", at=at)
        if result.valid:
            return None
        return PROBLEMS.get(result.reason, f"its certificate is not valid ({result.reason})")
