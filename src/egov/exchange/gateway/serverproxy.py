"""The server proxy: where other gateways deliver requests for the providers served here.

It trusts nothing the calling gateway decided. The caller's TLS certificate must be a
gateway's of the global configuration and not revoked; the request must be signed by that
gateway, recent and not a replay; the calling gateway must host the client and the client
must have the access right. Only then does the request reach the service, with this
provider's credential. The answer is signed and bound to the request.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from typing import TYPE_CHECKING

import structlog
from aiohttp import ClientConnectorError, ClientError, ClientTimeout, web
from yarl import URL

from egov.exchange.gateway import messages
from egov.exchange.gateway.access import (
    PURPOSE_HEADER,
    PURPOSES_HEADER,
    Purpose,
    access_decide,
    purpose_codes,
)
from egov.exchange.gateway.conf import GlobalConf, Peer
from egov.exchange.gateway.errors import (
    CallIds,
    XRoadError,
    answer_in_xroad_shape,
    client_error,
    server_proxy_error,
)
from egov.exchange.gateway.metaservices import METASERVICES, Answer, metaservice_answer
from egov.exchange.gateway.rest import (
    body_read,
    forwardable,
    message_id_read,
    rest_request_parse,
)

if TYPE_CHECKING:
    from egov.exchange.gateway.server import Gateway

logger = structlog.get_logger(__name__)

#: How far a message's time may be from the receiving gateway's clock, and how long its id
#: is remembered to refuse a replay.
CLOCK_SKEW_SECONDS = 300
REPLAY_WINDOW_SECONDS = 2 * CLOCK_SKEW_SECONDS
MAX_REQUEST_ID = 64


class ReplayMemory:
    """The request ids seen in the replay window, per process (a gateway run as several
    processes does not share them; see docs/exchange.md).

    Every id is kept for the same window on a monotonic clock, so the order of arrival is
    the order of expiry: housekeeping drops the oldest ones and stops at the first still
    current, instead of scanning every id."""

    def __init__(self, window: float = REPLAY_WINDOW_SECONDS) -> None:
        self.window = window
        self._expiries: OrderedDict[tuple[str, str], float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._expiries)

    def __contains__(self, key: object) -> bool:
        return key in self._expiries

    def remember(self, key: tuple[str, str], now: float | None = None) -> bool:
        """Remember ``key``; ``False`` if it is already remembered (a replay)."""
        if key in self._expiries:
            return False
        self._expiries[key] = (time.monotonic() if now is None else now) + self.window
        return True

    def forget_expired(self, now: float | None = None) -> int:
        """Forget the ids whose window has passed; how many were forgotten."""
        moment = time.monotonic() if now is None else now
        forgotten = 0
        while self._expiries:
            key, expiry = next(iter(self._expiries.items()))
            if expiry >= moment:
                break
            del self._expiries[key]
            forgotten += 1
        return forgotten


class ServerProxy:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.code = gateway.code
        self.seen = ReplayMemory()
        self.timeout = ClientTimeout(total=gateway.settings.service_timeout)

    def forget_expired(self) -> None:
        self.seen.forget_expired()

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        call = CallIds(side="provider", gateway=self.code)

        async def handler() -> web.StreamResponse:
            # Returned with any error; the request's signature covers it once verified.
            call.message_id = message_id_read(request, "")
            return await self._call(request, call.message_id, call.ids)

        return await answer_in_xroad_shape(
            call, handler, server_proxy_error, access_log=self.gateway.settings.access_log
        )

    def _calling_gateway(self, request: web.BaseRequest, conf: GlobalConf) -> Peer:
        transport = request.transport
        ssl_object = transport.get_extra_info("ssl_object") if transport else None
        der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
        peer = conf.by_tls.get(hashlib.sha256(der).hexdigest()) if der else None
        if peer is None:
            raise server_proxy_error(
                "SslAuthenticationFailed",
                "the client certificate is not a gateway's of the configuration",
            )
        if conf.peer_revoked(peer):
            raise server_proxy_error(
                "SslAuthenticationFailed", f"the certificate of gateway {peer.code} is revoked"
            )
        self.gateway.peer_statuses.check(peer, server_proxy_error)
        return peer

    async def _call(
        self, request: web.BaseRequest, message_id: str, ids: dict[str, str]
    ) -> web.StreamResponse:
        conf = self.gateway.conf.usable()
        if conf is None:
            raise server_proxy_error(
                "OutdatedGlobalConf", "the global configuration is missing or expired"
            )
        peer = self._calling_gateway(request, conf)
        ids["caller_gateway"] = peer.code
        # Fail closed: nothing reaches a service that the message log cannot get a timestamp for.
        self.gateway.timestamping.check(server_proxy_error)
        parsed = rest_request_parse(request)
        client, service = parsed.client, parsed.service
        client_text, service_text = str(client), str(service)
        ids.update(client=client_text, service=service_text)
        body = await body_read(request, self.gateway.settings.max_body_bytes)
        headers = [
            (name, value)
            for name, value in request.headers.items()
            if name.lower() not in messages.INTERNAL
        ]
        request_hash = messages.message_hash(f"{request.method} {request.raw_path}", headers, body)
        signature = request.headers.get("X-Egov-Signature", "")
        if not messages.verify(peer.signing_key, signature, request_hash):
            raise server_proxy_error(
                "InvalidSignatureValue", f"the request is not signed by gateway {peer.code}"
            )
        try:
            sent = int(request.headers.get("X-Egov-Time", ""))
        except ValueError:
            raise server_proxy_error("InvalidMessage", "the message has no time") from None
        if abs(time.time() - sent) > CLOCK_SKEW_SECONDS:
            raise server_proxy_error("InvalidMessage", "the message's time is too far from ours")
        if not message_id:
            raise server_proxy_error("InvalidMessage", "the message has no X-Road-Id")
        # Replays are recognised by the request id the calling gateway generates for every
        # request it sends (never by the client's message id, which a client may reuse
        # when it retries).
        request_id = request.headers.get("X-Road-Request-Id", "")
        if not request_id or len(request_id) > MAX_REQUEST_ID:
            raise server_proxy_error("InvalidMessage", "the message has no X-Road-Request-Id")
        if not self.seen.remember((peer.code, request_id)):
            raise server_proxy_error(
                "DuplicateMessageId", f"request {request_id!r} was already received (a replay)"
            )
        registered_client = conf.clients.get(client_text)
        if registered_client is None or registered_client.get("gateway") != peer.code:
            raise server_proxy_error(
                "AccessDenied", f"gateway {peer.code} does not serve client {client_text}"
            )
        provider = str(service.provider)
        registered = conf.subsystems.get(provider)
        if registered is None or registered.get("gateway") != self.code:
            raise server_proxy_error("UnknownService", f"{provider} is not served here")
        purposes: list[Purpose] = []
        base_url = ""
        if service.service_code == "getOpenAPI" and not request.query.get("serviceCode"):
            raise client_error("BadRequest", "getOpenAPI needs the serviceCode query parameter")
        if service.service_code not in METASERVICES:
            description = conf.services.get(service_text)
            base_url = self.gateway.settings.services.get(service_text, "")
            if description is None or not base_url:
                raise server_proxy_error(
                    "UnknownService", f"service {service_text} is not served here"
                )
            # Decided again here: nothing the calling gateway decided is trusted.
            purposes = access_decide(
                conf,
                client=client_text,
                service=service_text,
                personal_data=bool(description.get("personal_data")),
                method=request.method,
                rest=parsed.rest,
                requested=request.headers.getall(PURPOSE_HEADER, []),
            )
        entry = {
            "message_id": message_id,
            "request_id": request_id,
            "client": client_text,
            "service": service_text,
            "user_id": request.headers.get("X-Road-UserId", ""),
            "issue": request.headers.get("X-Road-Issue", ""),
            "purposes": purpose_codes(purposes),
        }
        log = self.gateway.log
        log.certify(peer.code, peer.signing_certificate_pem)
        log.message(
            kind="request",
            side="provider",
            method=request.method,
            hash=request_hash,
            signer=peer.code,
            signature=signature,
            **entry,
        )
        if service.service_code in METASERVICES:
            status, answer_headers, answer_body = metaservice_answer(
                conf, client_text, provider, service.service_code, request
            )
        else:
            status, answer_headers, answer_body = await self._service_call(
                request,
                conf=conf,
                url=base_url.rstrip("/")
                + parsed.rest
                + (f"?{parsed.query}" if parsed.query else ""),
                client=client_text,
                provider=provider,
                service=service_text,
                request_id=request_id,
                purposes=purposes,
                body=body,
            )
        answer_headers = [
            *forwardable(answer_headers),
            ("X-Road-Id", message_id),
            ("X-Road-Client", client_text),
            ("X-Road-Service", service_text),
            ("X-Road-Request-Id", request_id),
            ("X-Road-Request-Hash", request_hash),
        ]
        response_hash = messages.message_hash(str(status), answer_headers, answer_body)
        answer_signature = messages.sign(self.gateway.signing_key, response_hash)
        log.message(
            kind="response",
            side="provider",
            status=status,
            hash=response_hash,
            request_hash=request_hash,
            signer=self.code,
            signature=answer_signature,
            **entry,
        )
        answer_headers.append(("X-Egov-Signature", answer_signature))
        return web.Response(status=status, body=answer_body, headers=answer_headers)

    async def _service_call(
        self,
        request: web.BaseRequest,
        *,
        conf: GlobalConf,
        url: str,
        client: str,
        provider: str,
        service: str,
        request_id: str,
        purposes: list[Purpose],
        body: bytes,
    ) -> Answer:
        headers = [
            (name, value)
            for name, value in forwardable(request.headers.items())
            # The client's own purpose is never passed on: the service reads the purposes
            # in effect, decided here.
            if name.lower() != "x-egov-purpose"
        ]
        headers += [
            ("X-Road-Client", client),
            ("X-Road-Service", service),
            ("X-Road-Id", request.headers.get("X-Road-Id", "")),
            # Generated by the client's gateway and covered by its signature (a client's own
            # never crosses): the register records it as the proof of this access.
            ("X-Road-Request-Id", request_id),
            (PURPOSES_HEADER, conf.purposes_json(purposes)),
        ]
        # Only the called service's own provider's credential, never another's.
        provider_key = self.gateway.provider_keys.get(provider)
        if provider_key:
            headers.append(("X-Egov-Gateway-Key", provider_key))
        try:
            async with self.gateway.services.request(
                request.method,
                URL(url, encoded=True),
                data=body or None,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
            ) as answer:
                return answer.status, list(answer.headers.items()), await answer.read()
        except TimeoutError:
            failure = server_proxy_error(
                "ServiceFailed", f"service {service} did not answer in time"
            )
            self._service_failure(failure, service, None)
            raise failure from None
        except (ClientError, OSError) as error:
            # The caller learns only the service: the backend's address stays in this log.
            failure = server_proxy_error("NetworkError", f"service {service} cannot be reached")
            self._service_failure(failure, service, error)
            raise failure from None

    def _service_failure(
        self, failure: XRoadError, service: str, error: BaseException | None
    ) -> None:
        """Log why the service failed, with the ``detail`` its caller receives. Only the
        backend's host and port, never the URL (its path may hold personal data)."""
        fields: dict[str, object] = {}
        if error is not None:
            fields["error_class"] = type(error).__name__
        if isinstance(error, ClientConnectorError):
            fields.update(host=error.host, port=error.port, os_error=str(error.os_error))
        logger.warning(
            "exchange_service_failed",
            gateway=self.code,
            service=service,
            error_type=failure.error_type,
            detail=failure.detail,
            **fields,
        )
