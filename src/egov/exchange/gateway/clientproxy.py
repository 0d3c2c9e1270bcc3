"""The client proxy: where the member's own information systems call the exchange.

``GET /r1/BY/GOV/MVD/population/person/4150592M012PB5`` with ``X-Road-Client:
BY/GOV/NCES/portal`` is checked against the global configuration, signed with this gateway's
key, written to the message log and sent over mutual TLS to the gateway that hosts the
provider. The answer must come back signed by that gateway and bound to this request by
``X-Road-Request-Hash``; only then is it handed to the information system.
"""

from __future__ import annotations

import functools
import hashlib
import ssl
import time
import uuid
from typing import TYPE_CHECKING

import structlog
from aiohttp import ClientError, ClientTimeout, web
from cryptography import x509
from yarl import URL

from egov.exchange.gateway import messages
from egov.exchange.gateway.access import (
    PURPOSE_HEADER,
    Purpose,
    access_decide,
    purpose_codes,
)
from egov.exchange.gateway.conf import HTTP, HTTPS, HTTPS_NO_AUTH, GlobalConf
from egov.exchange.gateway.errors import (
    CallIds,
    answer_in_xroad_shape,
    client_error,
    client_proxy_error,
)
from egov.exchange.gateway.metaservices import METASERVICES, list_clients
from egov.exchange.gateway.rest import (
    body_read,
    forwardable,
    message_id_read,
    rest_request_parse,
    to_client,
)

if TYPE_CHECKING:
    from egov.exchange.gateway.server import Gateway

logger = structlog.get_logger(__name__)


@functools.lru_cache(maxsize=256)
def _serial(der: bytes) -> int:
    return x509.load_der_x509_certificate(der).serial_number


def information_system_authenticate(
    request: web.BaseRequest, conf: GlobalConf, client: str
) -> None:
    """Whether the connection may speak for ``client``, by its connection type (X-Road's
    IS authentication): ``HTTP`` any connection, ``HTTPS_NO_AUTH`` TLS, ``HTTPS`` TLS with
    a client certificate registered for that client and not revoked. Refusals are X-Road's
    ``Server.ClientProxy.SslAuthenticationFailed`` with X-Road's messages."""
    connection_type = conf.client_connection_type(client)
    if connection_type == HTTP:
        return
    transport = request.transport
    ssl_object = transport.get_extra_info("ssl_object") if transport else None
    if connection_type == HTTPS_NO_AUTH:
        if ssl_object is None:
            raise client_proxy_error(
                "SslAuthenticationFailed",
                f"Client ({client}) specifies HTTPS NO AUTH but client made plaintext connection",
            )
        return
    if connection_type != HTTPS:
        raise client_proxy_error(
            "SslAuthenticationFailed",
            f"Client ({client}) has an unknown connection type {connection_type!r}",
        )
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    if not der:
        raise client_proxy_error(
            "SslAuthenticationFailed",
            f"Client ({client}) specifies HTTPS but did not supply TLS certificate",
        )
    registered = conf.client_certificates(client)
    if not registered:
        raise client_proxy_error(
            "SslAuthenticationFailed", f"Client ({client}) has no IS certificates"
        )
    if hashlib.sha256(der).hexdigest() not in registered:
        raise client_proxy_error(
            "SslAuthenticationFailed",
            f"Client ({client}) TLS certificate does not match any IS certificates",
        )
    if _serial(der) in conf.revoked:
        raise client_proxy_error(
            "SslAuthenticationFailed", f"Client ({client}) TLS certificate is revoked"
        )


class ClientProxy:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.code = gateway.code
        #: The provider's gateway waits for its service; this side a little longer.
        self.timeout = ClientTimeout(total=gateway.settings.service_timeout + 5)

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        call = CallIds(side="client", gateway=self.code, message_id=str(uuid.uuid4()))

        async def handler() -> web.StreamResponse:
            if request.path == "/listClients" and request.method == "GET":
                return list_clients(self._usable(), request)
            call.message_id = message_id_read(request, call.message_id)
            return await self._call(request, call.message_id, call.ids)

        return await answer_in_xroad_shape(
            call, handler, client_proxy_error, access_log=self.gateway.settings.access_log
        )

    def _usable(self) -> GlobalConf:
        conf = self.gateway.conf.usable()
        if conf is None:
            raise client_proxy_error(
                "OutdatedGlobalConf", "the global configuration is missing or expired"
            )
        return conf

    async def _call(
        self, request: web.BaseRequest, message_id: str, ids: dict[str, str]
    ) -> web.StreamResponse:
        parsed = rest_request_parse(request)
        client, service = parsed.client, parsed.service
        ids.update(client=str(client), service=str(service))
        conf = self._usable()
        # Fail closed: nothing is forwarded that the message log cannot get a timestamp for.
        self.gateway.timestamping.check(client_proxy_error)
        client_text, service_text = str(client), str(service)
        registered = conf.clients.get(client_text)
        if registered is None or registered.get("gateway") != self.code:
            raise client_proxy_error(
                "UnknownMember", f"client {client_text} is not registered at gateway {self.code}"
            )
        information_system_authenticate(request, conf, client_text)
        purposes: list[Purpose] = []
        if service.service_code == "getOpenAPI" and not request.query.get("serviceCode"):
            raise client_error("BadRequest", "getOpenAPI needs the serviceCode query parameter")
        if service.service_code not in METASERVICES:
            description = conf.services.get(service_text)
            if description is None:
                raise client_proxy_error(
                    "UnknownService", f"service {service_text} is not registered"
                )
            # Checked here too, so that nothing leaves for a call the provider refuses.
            purposes = access_decide(
                conf,
                client=client_text,
                service=service_text,
                personal_data=bool(description.get("personal_data")),
                method=request.method,
                rest=parsed.rest,
                requested=request.headers.getall(PURPOSE_HEADER, []),
            )
        peer = conf.gateway_of(str(service.provider))
        if peer is None:
            raise client_proxy_error(
                "UnknownMember", f"no gateway serves the provider {service.provider}"
            )
        self.gateway.peer_statuses.check(peer, client_proxy_error)
        body = await body_read(request, self.gateway.settings.max_body_bytes)
        # The replay protection between gateways is by this id, never by the client's
        # message id: a client may retry with the same X-Road-Id.
        request_id = str(uuid.uuid4())
        headers = forwardable(request.headers.items())
        if "Accept" not in request.headers:
            # X-Road: without an Accept header the consumer gets application/json.
            headers.append(("Accept", "application/json"))
        headers += [
            ("X-Road-Client", client_text),
            ("X-Road-Service", service_text),
            ("X-Road-Id", message_id),
            ("X-Road-Request-Id", request_id),
            ("X-Egov-Time", str(int(time.time()))),
        ]
        head = f"{request.method} {request.raw_path}"
        request_hash = messages.message_hash(head, headers, body)
        signature = messages.sign(self.gateway.signing_key, request_hash)
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
        log.message(
            kind="request",
            side="client",
            method=request.method,
            hash=request_hash,
            signer=self.code,
            signature=signature,
            **entry,
        )
        outgoing = [*headers, ("X-Egov-Signature", signature), ("X-Egov-Signer", self.code)]
        try:
            async with self.gateway.peer_session(peer).request(
                request.method,
                URL(peer.address + request.raw_path, encoded=True),
                data=body or None,
                headers=outgoing,
                timeout=self.timeout,
                allow_redirects=False,
            ) as answer:
                answer_body = await answer.read()
                status, answer_headers = answer.status, list(answer.headers.items())
        except ssl.SSLError as error:
            raise client_proxy_error(
                "SslAuthenticationFailed", f"TLS with {peer.code} failed: {error}"
            ) from None
        except (TimeoutError, ClientError, OSError) as error:
            raise client_proxy_error(
                "NetworkError",
                f"gateway {peer.code} cannot be reached: {error or type(error).__name__}",
            ) from None
        lower = {name.lower(): value for name, value in answer_headers}
        if "x-road-error" in lower:
            log.message(
                kind="response",
                side="client",
                status=status,
                error=lower["x-road-error"],
                hash="",
                request_hash=request_hash,
                signer="",
                signature="",
                **entry,
            )
            passed = to_client(answer_headers)
            if "x-road-id" not in lower:
                passed.append(("X-Road-Id", message_id))
            return web.Response(status=status, body=answer_body, headers=passed)
        response_hash = messages.message_hash(str(status), answer_headers, answer_body)
        answer_signature = lower.get("x-egov-signature", "")
        if lower.get("x-road-request-hash") != request_hash or not messages.verify(
            peer.signing_key, answer_signature, response_hash
        ):
            raise client_proxy_error(
                "InvalidSignatureValue", f"the response from {peer.code} is not signed by it"
            )
        log.certify(peer.code, peer.signing_certificate_pem)
        log.message(
            kind="response",
            side="client",
            status=status,
            hash=response_hash,
            request_hash=request_hash,
            signer=peer.code,
            signature=answer_signature,
            **entry,
        )
        return web.Response(status=status, body=answer_body, headers=to_client(answer_headers))
