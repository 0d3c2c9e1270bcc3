"""The platform's RFC 3161 timestamp authority, and the client side the gateways use.

The ASN.1 is asn1crypto's ``tsp`` and ``cms`` modules; nothing here encodes by hand.

Server side: :func:`timestamp_respond` turns a DER ``TimeStampReq`` into a DER
``TimeStampResp``, a CMS SignedData over a ``TSTInfo`` signed by the ``tsa`` certificate
(ECDSA-SHA256, with the ESS signing-certificate-v2 attribute). A query it cannot serve gets a
``rejection`` with its ``failInfo``, never an exception. :func:`local_timestamper` is a pyHanko
``TimeStamper`` that calls it in process, so document signing does not call its own web server.

Client side (free of Django, for the exchange gateway): :func:`timestamp_query` builds a query,
:func:`reply_token` checks a reply against it, :func:`token_check` verifies a stored token
(signature, chain to the platform's root, imprint, key usage).

The :class:`Authority` itself is free of Django too; only :func:`timestamp_respond`'s platform
authority reads the settings, the ``tsa`` key and the database's serial numbers.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import structlog
from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

if TYPE_CHECKING:
    from pyhanko.sign.timestamps import TimeStamper

logger = structlog.get_logger(__name__)

QUERY_CONTENT_TYPE = "application/timestamp-query"
REPLY_CONTENT_TYPE = "application/timestamp-reply"

#: The message imprints accepted, with their digest lengths (RFC 3161 §2.4.1 asks the TSA to
#: check the length).
HASH_LENGTHS = {"sha256": 32, "sha384": 48, "sha512": 64}
HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
#: A query is a few hundred bytes; anything far larger is not one.
MAX_QUERY_BYTES = 16 * 1024


class TimestampReply(tsp.TimeStampResp):
    """``TimeStampResp`` as RFC 3161 §2.4.2 defines it: a rejection carries no token
    (asn1crypto's class marks the token mandatory, which only fits granted replies)."""

    _fields = [
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]


class TimestampError(Exception):
    """A reply is not a valid answer to our query, or a token does not verify."""


@dataclass
class Authority:
    """One timestamp authority: its certificate and key, its policy and its serial numbers.

    ``sign`` gives a DER ECDSA-SHA256 signature of its argument (``SigningKey.sign`` of ADR
    0010); ``serials`` the next serial number, unique across processes."""

    certificate: x509.Certificate
    chain: list[x509.Certificate]
    sign: Callable[[bytes], bytes]
    serials: Callable[[], int]
    policy: str
    accuracy_seconds: int = 1
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        self._certificate = asn1_x509.Certificate.load(
            self.certificate.public_bytes(serialization.Encoding.DER)
        )
        self._chain = [
            asn1_x509.Certificate.load(item.public_bytes(serialization.Encoding.DER))
            for item in self.chain
            # The root is the validator's own trust anchor: not sent with every token.
            if item != self.certificate and item.subject != item.issuer
        ]
        signing_certificate = tsp.SigningCertificateV2(
            {
                "certs": [
                    {
                        # sha256 is the default algorithm, so it is left out (DER).
                        "cert_hash": hashlib.sha256(self._certificate.dump()).digest(),
                        "issuer_serial": {
                            "issuer": [
                                asn1_x509.GeneralName(
                                    name="directory_name", value=self._certificate.issuer
                                )
                            ],
                            "serial_number": self._certificate.serial_number,
                        },
                    }
                ]
            }
        )
        # The parts every token repeats, encoded once: asn1crypto re-encodes an object it
        # built each time it is dumped, but passes one it loaded from DER through as is.
        self._der = {
            "signing_certificate": _attribute("signing_certificate_v2", signing_certificate).dump(),
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": {
                        "issuer": self._certificate.issuer,
                        "serial_number": self._certificate.serial_number,
                    }
                }
            ).dump(),
            "tsa": asn1_x509.GeneralName(
                name="directory_name", value=self._certificate.subject
            ).dump(),
            "certificates": cms.CertificateSet(
                [
                    cms.CertificateChoices(name="certificate", value=item)
                    for item in [self._certificate, *self._chain]
                ]
            ).dump(),
            "content_type": _attribute("content_type", "tst_info").dump(),
            "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}).dump(),
            "signature_algorithm": algos.SignedDigestAlgorithm(
                {"algorithm": "sha256_ecdsa"}
            ).dump(),
            "digest_algorithms": cms.DigestAlgorithms(
                [algos.DigestAlgorithm({"algorithm": "sha256"})]
            ).dump(),
            "granted": tsp.PKIStatusInfo({"status": "granted"}).dump(),
        }

    def respond(self, query_der: bytes) -> bytes:
        """The DER reply to one DER query; a rejection for anything but a good query."""
        try:
            query = _query_parse(query_der, self.policy)
            return self._granted(query).dump()
        except _Rejected as rejection:
            return rejection.reply()
        except Exception:
            logger.exception("tsa_reply_failed")
            return _Rejected("system_failure", "the timestamp authority failed").reply()

    def _granted(self, query: tsp.TimeStampReq) -> tsp.TimeStampResp:
        gen_time = self.clock().astimezone(UTC)
        info: dict[str, Any] = {
            "version": "v1",
            "policy": self.policy,
            "message_imprint": query["message_imprint"],
            "serial_number": self.serials(),
            "gen_time": gen_time,
            "accuracy": {"seconds": self.accuracy_seconds},
            "tsa": asn1_x509.GeneralName.load(self._der["tsa"]),
        }
        if query["nonce"].native is not None:
            info["nonce"] = query["nonce"]
        tst_info = tsp.TSTInfo(info).dump()
        der = self._der
        attributes_der = cms.CMSAttributes(
            [
                cms.CMSAttribute.load(der["content_type"]),
                _attribute("signing_time", cms.Time({"utc_time": core.UTCTime(gen_time)})),
                _attribute("message_digest", hashlib.sha256(tst_info).digest()),
                cms.CMSAttribute.load(der["signing_certificate"]),
            ]
        ).dump()
        signer_info = cms.SignerInfo(
            {
                "version": "v1",
                "sid": cms.SignerIdentifier.load(der["sid"]),
                "digest_algorithm": algos.DigestAlgorithm.load(der["digest_algorithm"]),
                "signature_algorithm": algos.SignedDigestAlgorithm.load(der["signature_algorithm"]),
                "signed_attrs": cms.CMSAttributes.load(attributes_der),
                "signature": self.sign(attributes_der),
            }
        )
        signed_data: dict[str, Any] = {
            "version": "v3",
            "digest_algorithms": cms.DigestAlgorithms.load(der["digest_algorithms"]),
            "encap_content_info": {
                "content_type": "tst_info",
                "content": cms.ParsableOctetString(tst_info),
            },
            "signer_infos": [signer_info],
        }
        if query["cert_req"].native:
            # The TSA's certificate (RFC 3161 §2.4.1) and the CA under the root, so a
            # validator holding only the root can build the path.
            signed_data["certificates"] = cms.CertificateSet.load(der["certificates"])
        return TimestampReply(
            {
                "status": tsp.PKIStatusInfo.load(der["granted"]),
                "time_stamp_token": {"content_type": "signed_data", "content": signed_data},
            }
        )


def _attribute(kind: str, value: Any) -> cms.CMSAttribute:
    return cms.CMSAttribute({"type": kind, "values": [value]})


class _Rejected(Exception):
    def __init__(self, fail_info: str, text: str) -> None:
        super().__init__(text)
        self.fail_info = fail_info
        self.text = text

    def reply(self) -> bytes:
        return TimestampReply(
            {
                "status": {
                    "status": "rejection",
                    "status_string": [self.text],
                    "fail_info": tsp.PKIFailureInfo({self.fail_info}),
                }
            }
        ).dump()


def _query_parse(query_der: bytes, policy: str) -> tsp.TimeStampReq:
    """The query, checked as RFC 3161 §2.4.1 asks, or :class:`_Rejected` saying why."""
    if not query_der or len(query_der) > MAX_QUERY_BYTES:
        raise _Rejected("bad_request", "the body is not a timestamp query")
    try:
        query = tsp.TimeStampReq.load(query_der, strict=True)
        query.native  # noqa: B018  (parses every field: a malformed one fails here)
    except (ValueError, TypeError, KeyError, OverflowError):
        raise _Rejected("bad_request", "the body is not a timestamp query") from None
    if query["version"].native != "v1":
        raise _Rejected("bad_data_format", "only version 1 queries are served")
    imprint = query["message_imprint"]
    algorithm = imprint["hash_algorithm"]["algorithm"].native
    if algorithm not in HASH_LENGTHS:
        raise _Rejected(
            "bad_alg", f"unsupported hash algorithm {algorithm}; use SHA-256, SHA-384 or SHA-512"
        )
    if imprint["hash_algorithm"]["parameters"].native is not None:
        raise _Rejected("bad_alg", "hash algorithm parameters must be absent")
    if len(imprint["hashed_message"].native) != HASH_LENGTHS[algorithm]:
        raise _Rejected("bad_data_format", f"the message imprint is not a {algorithm} digest")
    requested = query["req_policy"].native
    if requested is not None and requested != policy:
        raise _Rejected("unaccepted_policy", f"only policy {policy} is served")
    if query["extensions"].native:
        raise _Rejected("unaccepted_extensions", "no extensions are supported")
    return query


# --- the platform's authority -----------------------------------------------------------
_platform: tuple[tuple[object, ...], Authority] | None = None
_platform_lock = threading.Lock()


def _platform_authority() -> Authority:
    """The authority of this installation, loaded once and again when the PKI's index
    changes (a renewed or revoked ``tsa`` certificate)."""
    global _platform
    from django.conf import settings

    from egov.trust.models import timestamp_serial_next
    from egov.trust.pki import index_version

    directory = Path(settings.PKI_DIR)
    version = (
        index_version(directory=directory),
        settings.TSA_POLICY_OID,
        settings.TSA_ACCURACY_SECONDS,
    )
    with _platform_lock:
        if _platform is not None and _platform[0] == version:
            return _platform[1]
        certificate, chain, sign = _tsa_key(directory)
        authority = Authority(
            certificate=certificate,
            chain=chain,
            sign=sign,
            serials=timestamp_serial_next,
            policy=settings.TSA_POLICY_OID,
            accuracy_seconds=settings.TSA_ACCURACY_SECONDS,
        )
        _platform = (version, authority)
        return authority


def _tsa_key(
    directory: Path,
) -> tuple[x509.Certificate, list[x509.Certificate], Callable[[bytes], bytes]]:
    """The ``tsa`` certificate, its chain and its signing function, wherever the key lives
    (a file or the PKCS#11 token: ``egov.trust.keys.signing_key``)."""
    from egov.trust.keys import signing_key

    key = signing_key("tsa")
    return key.certificate, list(key.chain), key.sign


def timestamp_respond(query_der: bytes) -> bytes:
    """The platform TSA's DER ``TimeStampResp`` to a DER ``TimeStampReq``. Never raises: a
    query it cannot serve, or a TSA without its key, is a ``rejection`` reply."""
    try:
        authority = _platform_authority()
    except Exception:
        logger.exception("tsa_unavailable")
        return _Rejected("system_failure", "the timestamp authority is not available").reply()
    return authority.respond(query_der)


_local: tuple[Authority, TimeStamper] | None = None


def local_timestamper() -> TimeStamper:
    """A pyHanko ``TimeStamper`` that asks :func:`timestamp_respond` in this process. One
    per authority (a renewed ``tsa`` certificate is a new one): pyHanko sizes signatures
    and finds the TSA's certificate path with a first token it keeps, which would otherwise
    cost a second token for every document."""
    global _local
    from asgiref.sync import sync_to_async
    from pyhanko.sign.timestamps import TimeStamper

    try:
        authority = _platform_authority()
    except Exception:  # no TSA key: the timestamper's replies will say so
        authority = None
    if authority is not None and _local is not None and _local[0] is authority:
        return _local[1]

    class LocalTimeStamper(TimeStamper):
        async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
            # Serials come from the database, which Django refuses inside an event loop:
            # the reply is made in the calling code's thread (or asgiref's sync thread).
            reply = await sync_to_async(timestamp_respond, thread_sensitive=True)(req.dump())
            return TimestampReply.load(reply)

    stamper = LocalTimeStamper()
    if authority is not None:
        _local = (authority, stamper)
    return stamper


# --- the client side (the gateways) -------------------------------------------------------
TSA_PATH = "/trust/tsa"


def tsa_url_for(base_url: str) -> str:
    """The platform TSA's address at the origin of ``base_url`` (the portal's, or the central
    registry's configuration URL: both are served by the portal)."""
    parts = urlsplit(base_url)
    return urlunsplit((parts.scheme, parts.netloc, TSA_PATH, "", ""))


def timestamp_query(digest: bytes, *, algorithm: str = "sha256", nonce: int | None = None) -> bytes:
    """A DER query for ``digest`` asking for the TSA's certificate; with ``nonce``."""
    query: dict[str, Any] = {
        "version": "v1",
        "message_imprint": {
            "hash_algorithm": {"algorithm": algorithm},
            "hashed_message": digest,
        },
        "cert_req": True,
    }
    if nonce is not None:
        query["nonce"] = nonce
    return tsp.TimeStampReq(query).dump()


def nonce_new() -> int:
    return secrets.randbits(63)


def reply_token(reply_der: bytes, *, digest: bytes, nonce: int | None) -> bytes:
    """The DER token of a granted reply to our query for ``digest``, or
    :class:`TimestampError` (a rejection, another imprint, another nonce)."""
    try:
        reply = TimestampReply.load(reply_der)
        status = reply["status"]["status"].native
        if status not in {"granted", "granted_with_mods"}:
            text = "; ".join(reply["status"]["status_string"].native or [])
            raise TimestampError(f"the TSA refused: {status} {text}".strip())
        token = reply["time_stamp_token"]
        info = _tst_info(token)
    except (ValueError, TypeError, KeyError) as error:
        raise TimestampError(f"not a timestamp reply ({error})") from None
    if info["message_imprint"]["hashed_message"].native != digest:
        raise TimestampError("the reply timestamps another imprint")
    if nonce is not None and info["nonce"].native != nonce:
        raise TimestampError("the reply carries another nonce")
    return bytes(token.dump())


def _tst_info(token: cms.ContentInfo) -> tsp.TSTInfo:
    if token["content_type"].native != "signed_data":
        raise ValueError("the token is not CMS SignedData")
    content = token["content"]["encap_content_info"]
    if content["content_type"].native != "tst_info":
        raise ValueError("the token holds no TSTInfo")
    info = content["content"].parsed
    if not isinstance(info, tsp.TSTInfo):
        raise ValueError("the token holds no TSTInfo")
    return info


@dataclass(frozen=True)
class Token:
    """A verified token's facts."""

    gen_time: datetime
    serial: int
    policy: str
    algorithm: str
    digest: bytes
    signer: x509.Certificate


def token_check(token_der: bytes, *, authorities: Iterable[x509.Certificate]) -> Token:
    """Verify a stored token: CMS structure, the message digest and ECDSA signature of its
    signed attributes, a signer certificate for time-stamping whose chain (from the token's
    certificates) ends at one of ``authorities`` and that was valid at genTime.
    :class:`TimestampError` names what is wrong."""
    anchors = list(authorities)
    try:
        token = cms.ContentInfo.load(token_der, strict=True)
        info = _tst_info(token)
        signed = token["content"]
        signer_infos = signed["signer_infos"]
        if len(signer_infos) != 1:
            raise TimestampError("a token has exactly one signer")
        signer_info = signer_infos[0]
        included = [
            x509.load_der_x509_certificate(item.chosen.dump())
            for item in signed["certificates"] or []
            if item.name == "certificate"
        ]
        info_der = signed["encap_content_info"]["content"].contents
        attributes = {
            attribute["type"].native: attribute["values"][0]
            for attribute in signer_info["signed_attrs"]
        }
    except TimestampError:
        raise
    except (ValueError, TypeError, KeyError, IndexError) as error:
        raise TimestampError(f"not a timestamp token ({error})") from None
    digest_name = signer_info["digest_algorithm"]["algorithm"].native
    if digest_name not in HASHES:
        raise TimestampError(f"unsupported digest algorithm {digest_name}")
    if attributes.get("content_type") is None or attributes["content_type"].native != "tst_info":
        raise TimestampError("the signed attributes do not name a TSTInfo")
    message_digest = attributes.get("message_digest")
    digest = hashes.Hash(HASHES[digest_name]())
    digest.update(info_der)
    if message_digest is None or message_digest.native != digest.finalize():
        raise TimestampError("the TSTInfo does not match its signed digest (token altered)")
    sid = signer_info["sid"].chosen
    signer = next(
        (
            certificate
            for certificate in [*included, *anchors]
            if isinstance(sid, cms.IssuerAndSerialNumber)
            and certificate.serial_number == sid["serial_number"].native
        ),
        None,
    )
    if signer is None:
        raise TimestampError("the token does not include its signer's certificate")
    public_key = signer.public_key()
    signature_algorithm = signer_info["signature_algorithm"]["algorithm"].native
    algorithm_hash = {"sha256_ecdsa": "sha256", "sha384_ecdsa": "sha384", "sha512_ecdsa": "sha512"}
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or signature_algorithm not in (
        *algorithm_hash,
        "ecdsa",
    ):
        raise TimestampError(f"unsupported signature algorithm {signature_algorithm}")
    signature_hash = HASHES[algorithm_hash.get(signature_algorithm, digest_name)]()
    try:
        public_key.verify(
            signer_info["signature"].native,
            signer_info["signed_attrs"].untag().dump(),
            ec.ECDSA(signature_hash),
        )
    except InvalidSignature:
        raise TimestampError("the TSA's signature does not verify (token altered)") from None
    gen_time = info["gen_time"].native
    _signer_check(signer, included, anchors, gen_time)
    return Token(
        gen_time=gen_time,
        serial=int(info["serial_number"].native),
        policy=str(info["policy"].native),
        algorithm=str(info["message_imprint"]["hash_algorithm"]["algorithm"].native),
        digest=bytes(info["message_imprint"]["hashed_message"].native),
        signer=signer,
    )


def _signer_check(
    signer: x509.Certificate,
    included: list[x509.Certificate],
    anchors: list[x509.Certificate],
    at: datetime,
) -> None:
    try:
        usage = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is None or ExtendedKeyUsageOID.TIME_STAMPING not in usage:
        raise TimestampError("the token's signer is not a timestamp authority")
    current = signer
    for _ in range(8):
        if not current.not_valid_before_utc <= at <= current.not_valid_after_utc:
            raise TimestampError(
                f"{current.subject.rfc4514_string()} was not valid at the token's time"
            )
        if current in anchors:
            return
        issuer = next(
            (
                candidate
                for candidate in [*anchors, *included]
                if candidate != current and _is_ca(candidate) and _issued(current, candidate)
            ),
            None,
        )
        if issuer is None:
            raise TimestampError("the TSA's certificate does not chain to the trusted authority")
        current = issuer
    raise TimestampError("the TSA's certificate chain is too long")


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        return bool(certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _issued(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True
