"""The signed global configuration, shared by the central registry and the gateways.

The envelope is ``{"content": base64(UTF-8 JSON), "signature": base64(ECDSA-SHA256 over the
content bytes), "signer_certificate": PEM}``. A gateway trusts one central-signing
certificate (its anchor) and nothing else. No Django here: the gateway runs without it.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from egov.trust.pki import certificate_pem, load_certificate, sign, verify

#: ADR 0008: connection types, client certificates, endpoint rights and purposes.
FORMAT = 2


class GlobalconfInvalid(Exception):
    """The envelope cannot be trusted. ``code`` says why, for logs and error responses."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


def globalconf_content_bytes(content: dict[str, Any]) -> bytes:
    """One canonical encoding, so the same content always has the same bytes."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def globalconf_sign(
    *,
    content: dict[str, Any],
    private_key: ec.EllipticCurvePrivateKey,
    certificate: x509.Certificate,
) -> dict[str, str]:
    """The envelope of ``content`` signed with the central-signing key."""
    data = globalconf_content_bytes(content)
    return {
        "content": base64.b64encode(data).decode("ascii"),
        "signature": base64.b64encode(sign(private_key, data)).decode("ascii"),
        "signer_certificate": certificate_pem(certificate),
    }


def globalconf_verify(envelope: dict, anchor_pem: bytes) -> dict:
    """The content of ``envelope`` if it was signed by the anchor certificate's key.

    Raises :class:`GlobalconfInvalid` (code ``malformed``, ``untrusted_signer``,
    ``bad_signature`` or ``bad_content``) otherwise. Expiry is the caller's decision, see
    :func:`globalconf_expired`."""
    if not isinstance(envelope, dict):
        raise GlobalconfInvalid("malformed", "the global configuration is not a JSON object")
    fields = ("content", "signature", "signer_certificate")
    if not all(isinstance(envelope.get(field), str) for field in fields):
        raise GlobalconfInvalid(
            "malformed", f"the envelope needs the string fields {fields}"
        ) from None
    try:
        anchor = load_certificate(anchor_pem)
    except (ValueError, TypeError) as error:
        raise GlobalconfInvalid(
            "untrusted_signer", f"the anchor is not a certificate: {error}"
        ) from None
    try:
        signer = load_certificate(envelope["signer_certificate"].encode("ascii"))
    except (ValueError, UnicodeEncodeError) as error:
        raise GlobalconfInvalid(
            "malformed", f"the signer certificate does not parse: {error}"
        ) from None
    if signer != anchor:
        raise GlobalconfInvalid(
            "untrusted_signer", "the global configuration is signed by another certificate"
        )
    try:
        data = base64.b64decode(envelope["content"], validate=True)
        signature = base64.b64decode(envelope["signature"], validate=True)
    except (binascii.Error, ValueError):
        raise GlobalconfInvalid("malformed", "the content or the signature is not base64") from None
    if not verify(anchor, signature, data):
        raise GlobalconfInvalid(
            "bad_signature", "the signature of the global configuration fails"
        ) from None
    try:
        content = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise GlobalconfInvalid("bad_content", "the signed content is not UTF-8 JSON") from None
    if not isinstance(content, dict) or content.get("format") != FORMAT:
        raise GlobalconfInvalid("bad_content", f"the content is not a format {FORMAT} document")
    return content


def timestamp(moment: datetime) -> str:
    """``2026-01-31T12:00:00Z``: UTC, whole seconds."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def globalconf_expired(content: dict, *, now: datetime | None = None) -> bool:
    """Whether the content's ``expires_at`` has passed (or is missing or unreadable)."""
    try:
        expires_at = parse_timestamp(str(content["expires_at"]))
    except (KeyError, ValueError):
        return True
    return (now or datetime.now(UTC)) >= expires_at
