"""Revocation of other gateways' certificates, from the platform's OCSP responder.

The global configuration lists revoked serials, but only as fresh as its last refresh. As
X-Road's security servers do, a gateway also asks the OCSP responder (``ocsp_url``, the
portal's ``/trust/ocsp``) about every other gateway's TLS and signing certificate every
``ocsp_interval`` seconds, over HTTP with cryptography's OCSP builder, and keeps the verified
answers. A peer whose certificate is revoked is refused on both sides; so is one without a
verified ``good`` answer younger than ``ocsp_max_age`` (fail closed when the responder stays
away longer than that).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from aiohttp import ClientError, ClientSession, ClientTimeout
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID

from egov.exchange.gateway.conf import GatewaySettings, GlobalConf, Peer
from egov.exchange.gateway.errors import XRoadError

logger = structlog.get_logger(__name__)

MAX_RESPONSE_BYTES = 64 * 1024


class OcspInvalid(Exception):
    """The responder's answer is not a verified status of the certificate asked about."""


@dataclass(frozen=True)
class Status:
    #: ``good``, ``revoked`` or ``unknown``
    status: str
    checked_at: float


def _issued(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def ocsp_status_read(
    answer_der: bytes, *, certificate: x509.Certificate, issuer: x509.Certificate
) -> str:
    """The verified status of ``certificate`` in a DER OCSP response: signed by its issuer or
    by a responder the issuer delegated (OCSPSigning), about this serial, current."""
    try:
        answer = ocsp.load_der_ocsp_response(answer_der)
    except ValueError as error:
        raise OcspInvalid(f"not an OCSP response ({error})") from None
    if answer.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise OcspInvalid(f"the responder answered {answer.response_status.name}")
    signer = issuer
    for candidate in answer.certificates:
        if _issued(candidate, issuer):
            try:
                usage = candidate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
            except x509.ExtensionNotFound:
                continue
            if ExtendedKeyUsageOID.OCSP_SIGNING in usage:
                signer = candidate
                break
    public_key = signer.public_key()
    algorithm = answer.signature_hash_algorithm
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or algorithm is None:
        raise OcspInvalid("the response is not signed with ECDSA")
    try:
        public_key.verify(answer.signature, answer.tbs_response_bytes, ec.ECDSA(algorithm))
    except InvalidSignature:
        raise OcspInvalid("the response's signature does not verify") from None
    if answer.serial_number != certificate.serial_number:
        raise OcspInvalid("the response is about another certificate")
    now = datetime.now(UTC)
    if answer.next_update_utc is not None and answer.next_update_utc < now:
        raise OcspInvalid("the response is out of date")
    return {
        ocsp.OCSPCertStatus.GOOD: "good",
        ocsp.OCSPCertStatus.REVOKED: "revoked",
    }.get(answer.certificate_status, "unknown")


class PeerStatuses:
    """The OCSP status of every other gateway's certificates, refreshed in the loop."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.session: ClientSession | None = None
        self.statuses: dict[int, Status] = {}
        self.last_error = ""
        self.clock: Callable[[], float] = time.monotonic
        self._issuers: list[x509.Certificate] = []
        for path in settings.ca_certificates:
            self._issuers += x509.load_pem_x509_certificates(path.read_bytes())

    @property
    def enabled(self) -> bool:
        return bool(self.settings.ocsp_url)

    def _issuer(self, certificate: x509.Certificate) -> x509.Certificate | None:
        return next((item for item in self._issuers if _issued(certificate, item)), None)

    async def refresh(self, conf: GlobalConf | None) -> None:
        """Ask about each peer's certificates; a failure keeps the answers we have."""
        if not self.enabled or conf is None or self.session is None:
            return
        for peer in conf.gateways.values():
            if peer.code == self.settings.code:
                continue
            for pem in (peer.tls_certificate_pem, peer.signing_certificate_pem):
                await self._ask(peer, x509.load_pem_x509_certificate(pem.encode("ascii")))

    async def _ask(self, peer: Peer, certificate: x509.Certificate) -> None:
        assert self.session is not None
        issuer = self._issuer(certificate)
        if issuer is None:
            self._failed(peer, "its certificate is not issued by the platform's CA")
            return
        request = (
            ocsp.OCSPRequestBuilder()
            .add_certificate(certificate, issuer, hashes.SHA256())
            .build()
            .public_bytes(serialization.Encoding.DER)
        )
        try:
            async with self.session.post(
                self.settings.ocsp_url,
                data=request,
                headers={"Content-Type": "application/ocsp-request"},
                timeout=ClientTimeout(total=5),
                allow_redirects=False,
            ) as answer:
                if answer.status != 200:
                    raise OcspInvalid(f"the responder answered HTTP {answer.status}")
                body = await answer.content.read(MAX_RESPONSE_BYTES)
            status = ocsp_status_read(body, certificate=certificate, issuer=issuer)
        except TimeoutError:
            self._failed(peer, "the OCSP responder did not answer in time")
            return
        except (ClientError, OSError, OcspInvalid) as error:
            self._failed(peer, str(error) or type(error).__name__)
            return
        previous = self.statuses.get(certificate.serial_number)
        self.statuses[certificate.serial_number] = Status(status, self.clock())
        if status != "good" and (previous is None or previous.status != status):
            logger.warning(
                "peer_certificate_not_good",
                gateway=self.settings.code,
                peer=peer.code,
                serial=certificate.serial_number,
                status=status,
            )
        self.last_error = ""

    def _failed(self, peer: Peer, reason: str) -> None:
        self.last_error = reason
        logger.warning(
            "peer_certificate_status_not_obtained",
            gateway=self.settings.code,
            peer=peer.code,
            ocsp_url=self.settings.ocsp_url,
            reason=reason,
        )

    def complete(self, conf: GlobalConf | None) -> bool:
        """Whether every other gateway of ``conf`` has a status for both its certificates."""
        if conf is None:
            return False
        return all(
            peer.tls_serial in self.statuses and peer.signing_serial in self.statuses
            for peer in conf.gateways.values()
            if peer.code != self.settings.code
        )

    def problem(self, peer: Peer) -> str:
        """Why ``peer`` must be refused ("" when it may be served)."""
        if not self.enabled:
            return ""
        for serial in (peer.tls_serial, peer.signing_serial):
            status = self.statuses.get(serial)
            if status is not None and status.status == "revoked":
                return f"the certificate of gateway {peer.code} is revoked (OCSP)"
            if status is None or self.clock() - status.checked_at > self.settings.ocsp_max_age:
                cause = f": {self.last_error}" if self.last_error else ""
                return f"no current OCSP status for the certificates of gateway {peer.code}{cause}"
            if status.status != "good":
                return f"the OCSP responder does not know the certificate of gateway {peer.code}"
        return ""

    def check(self, peer: Peer, error: Callable[[str, str], XRoadError]) -> None:
        problem = self.problem(peer)
        if problem:
            raise error("SslAuthenticationFailed", problem)
