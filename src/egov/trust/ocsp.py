"""The platform's OCSP responder (RFC 6960) as a function: ``ocsp_response(request_der)``.

Served at ``/trust/ocsp`` and called in process by validation and document signing. Statuses
come from the PKI index as it is at each request; the answer is signed by the delegated
responder certificate ``ocsp`` (profile ``ocsp-responder``), made by ``egov trust setup``.
"""

from __future__ import annotations

from datetime import datetime

import structlog

from egov.trust.keys import FileSigningKey, SigningKeyMissing, pki_directory, signing_key
from egov.trust.pki.ocsp import ocsp_internal_error, ocsp_request, ocsp_respond

logger = structlog.get_logger(__name__)

#: The well-known name of the responder's certificate under issued/.
RESPONDER = "ocsp"

__all__ = ["RESPONDER", "ocsp_request", "ocsp_response"]


def ocsp_response(request_der: bytes, *, now: datetime | None = None) -> bytes:
    """A DER OCSPResponse for a DER OCSPRequest; never raises for what a client sends
    (malformedRequest), nor when the responder is not set up (internalError, logged)."""
    try:
        responder = signing_key(RESPONDER)
    except (SigningKeyMissing, OSError, ValueError) as error:
        logger.error("ocsp_responder_unavailable", error=str(error))
        return ocsp_internal_error()
    if not isinstance(responder, FileSigningKey) or responder.private_key is None:
        # cryptography's OCSP builder signs with a key object: the responder's key is a file.
        logger.error("ocsp_responder_key_not_a_file")
        return ocsp_internal_error()
    try:
        return ocsp_respond(
            directory=pki_directory(),
            request_der=request_der,
            responder_certificate=responder.certificate,
            responder_key=responder.private_key,
            now=now,
        )
    except (OSError, ValueError, KeyError) as error:
        logger.error("ocsp_index_unreadable", error=str(error))
        return ocsp_internal_error()
