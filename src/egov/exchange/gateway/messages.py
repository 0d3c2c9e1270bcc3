"""What a gateway signs: the hash of a request or a response, as X-Road defines it.

``X-Road-Request-Hash`` is base64(SHA-512(SHA-512(headers) + SHA-512(body))), or
base64(SHA-512(headers)) without a body. "headers" here is a canonical text of the request
line and every header that crosses the exchange, so a changed header, path or body changes the
hash and breaks the sending gateway's signature over it.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

#: Headers that never cross the exchange (RFC 7230 hop-by-hop, and ones that leak the host
#: or are rewritten on the way), as X-Road's REST protocol lists them.
FILTERED = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "user-agent",
        "server",
        "date",
        "content-length",
        "expect",
    }
)
#: Headers between the two gateways only: the signature and what it needs. Never forwarded.
INTERNAL = frozenset({"x-egov-signature", "x-egov-signer", "x-egov-gateway-key"})
UNSIGNED = FILTERED | INTERNAL


def canonical_headers(head: str, headers: Iterable[tuple[str, str]]) -> bytes:
    """``head`` (request line or status) then ``name:value`` lines, names lower-cased and
    sorted; values of one name keep their order."""
    kept = []
    for name, value in headers:
        lower = name.lower()
        if lower not in UNSIGNED:
            kept.append((lower, value.strip()))
    kept.sort(key=lambda item: item[0])
    lines = [head, *(f"{name}:{value}" for name, value in kept)]
    return "\n".join(lines).encode("utf-8")


def message_hash(head: str, headers: Iterable[tuple[str, str]], body: bytes) -> str:
    header_digest = hashlib.sha512(canonical_headers(head, headers)).digest()
    if not body:
        digest = header_digest
    else:
        digest = hashlib.sha512(header_digest + hashlib.sha512(body).digest()).digest()
    return base64.b64encode(digest).decode("ascii")


#: One signature algorithm object for every message (it holds no state).
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())


def sign(private_key: ec.EllipticCurvePrivateKey, message_hash_b64: str) -> str:
    signature = private_key.sign(message_hash_b64.encode("ascii"), _ECDSA_SHA256)
    return base64.b64encode(signature).decode("ascii")


def verify(
    public_key: ec.EllipticCurvePublicKey, signature_b64: str, message_hash_b64: str
) -> bool:
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        public_key.verify(signature, message_hash_b64.encode("ascii"), _ECDSA_SHA256)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True
