"""The gateway process: X-Road REST on the client side, signed mutual TLS between gateways.

Client side (plain HTTP on loopback, for the member's own information systems)::

    GET /r1/BY/GOV/MVD/population/person/4150592M012PB5
    X-Road-Client: BY/GOV/NCES/portal

is checked against the global configuration, signed with this gateway's key, written to the
message log and sent over mutual TLS to the gateway that hosts the provider. The provider
side checks the caller's TLS certificate, the signature, the time, the message id (no
replays), that the calling gateway hosts the client, and the access right — only then does the
request reach the service. The response comes back signed the same way and bound to the
request by ``X-Road-Request-Hash``. Errors of the exchange itself are X-Road's JSON errors
with ``X-Road-Error``; a provider's own errors pass through unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import signal
import ssl
import time
import uuid
from collections.abc import Iterable
from typing import Any

import yaml
from aiohttp import ClientError, ClientSession, ClientTimeout, TCPConnector, web
from yarl import URL

from egov.exchange.gateway import messages
from egov.exchange.gateway.conf import ConfHolder, GatewaySettings, GlobalConf, Peer
from egov.exchange.gateway.messagelog import MessageLog
from egov.exchange.globalconf import GlobalconfInvalid
from egov.exchange.identifiers import (
    ClientId,
    IdentifierError,
    client_id_parse,
    service_path_parse,
)

logger = logging.getLogger("egov.exchange.gateway")

METASERVICES = ("listMethods", "allowedMethods", "getOpenAPI")
PURPOSE = "x-egov-purpose"
#: How far a message's time may be from the receiving gateway's clock, and how long its id
#: is remembered to refuse a replay.
CLOCK_SKEW_SECONDS = 300
REPLAY_WINDOW_SECONDS = 2 * CLOCK_SKEW_SECONDS
#: Set by this gateway, never taken from the caller.
OWN_HEADERS = frozenset(
    {
        "x-road-client",
        "x-road-service",
        "x-road-id",
        "x-road-request-id",
        "x-road-request-hash",
        "x-road-error",
        "x-egov-time",
    }
)


class XRoadError(Exception):
    """An error inside the exchange: X-Road's ``{type, message, detail}`` with a status."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message

    def response(self, detail: str = "") -> web.Response:
        body = {
            "type": self.error_type,
            "message": self.message,
            "detail": detail or str(uuid.uuid4()),
        }
        return web.Response(
            status=self.status,
            body=json.dumps(body).encode("utf-8"),
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "X-Road-Error": self.error_type,
            },
        )


def client_error(error_type: str, message: str) -> XRoadError:
    return XRoadError(400, f"Client.{error_type}", message)


def client_proxy_error(error_type: str, message: str) -> XRoadError:
    return XRoadError(500, f"Server.ClientProxy.{error_type}", message)


def server_proxy_error(error_type: str, message: str) -> XRoadError:
    return XRoadError(500, f"Server.ServerProxy.{error_type}", message)


NOT_FORWARDED = messages.UNSIGNED | OWN_HEADERS


def _forwardable(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Headers passed on: not hop-by-hop, not the gateways' own, and no names with ``_``
    (some servers read ``X_Road_Client`` as ``X-Road-Client``)."""
    return [
        (name, value)
        for name, value in headers
        if name.lower() not in NOT_FORWARDED and "_" not in name
    ]


def _identifier_json(
    instance: str, member_class: str, member_code: str, **extra: str
) -> dict[str, str]:
    return {
        "member_class": member_class,
        "member_code": member_code,
        "xroad_instance": instance,
        **extra,
    }


class Gateway:
    """One gateway: both sides, its configuration, its keys and its message log."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.code = settings.code
        self.conf = ConfHolder(settings)
        self.signing_key = settings.signing_private_key()
        self.signing_certificate_pem = settings.signing_certificate.read_text(encoding="ascii")
        self.service_key = settings.service_key()
        self.log = MessageLog(
            settings.log_dir, self.code, self.signing_key, self.signing_certificate_pem
        )
        self.seen: dict[tuple[str, str], float] = {}
        self._sessions: list[ClientSession] = []
        self._peer_sessions: dict[str, ClientSession] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._servers: list[asyncio.Server] = []
        self._handlers: list[web.Server] = []

    # --- TLS -----------------------------------------------------------------------------
    def _ca_file_contents(self) -> str:
        return "".join(path.read_text(encoding="ascii") for path in self.settings.ca_certificates)

    def server_tls(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.settings.tls_certificate, self.settings.tls_key)
        context.load_verify_locations(cadata=self._ca_file_contents())
        context.verify_mode = ssl.CERT_REQUIRED
        return context

    def client_tls(self, peer: Peer) -> ssl.SSLContext:
        """TLS towards one peer that accepts exactly the certificate the global configuration
        gives for it (pinned: the only trust anchor), stricter than a host name check."""
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_verify_locations(cadata=peer.tls_certificate_pem)
        context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
        context.check_hostname = False
        context.load_cert_chain(self.settings.tls_certificate, self.settings.tls_key)
        return context

    def _peer_session(self, peer: Peer) -> ClientSession:
        session = self._peer_sessions.get(peer.tls_fingerprint)
        if session is None:
            session = ClientSession(
                connector=TCPConnector(ssl=self.client_tls(peer), limit=256, limit_per_host=256),
                auto_decompress=False,
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
            )
            self._peer_sessions[peer.tls_fingerprint] = session
        return session

    # --- life cycle ------------------------------------------------------------------------
    async def start(self) -> None:
        limit = 256
        self.services = ClientSession(
            connector=TCPConnector(limit=limit, limit_per_host=limit),
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
        )
        self.central = ClientSession(timeout=ClientTimeout(total=10))
        self._sessions = [self.services, self.central]
        self.conf.load_cache()
        await self.refresh()
        self._tasks = [
            asyncio.create_task(self._refresh_loop()),
            asyncio.create_task(self._every(1.0, self._housekeeping)),
        ]
        loop = asyncio.get_running_loop()
        client_host, client_port = self.settings.client_listen.rsplit(":", 1)
        server_host, server_port = self.settings.server_listen.rsplit(":", 1)
        self._handlers = [web.Server(self.client_side), web.Server(self.provider_side)]
        self._servers = [
            await loop.create_server(self._handlers[0], client_host, int(client_port)),
            await loop.create_server(
                self._handlers[1], server_host, int(server_port), ssl=self.server_tls()
            ),
        ]
        self.bound = {
            side: int(server.sockets[0].getsockname()[1])
            for side, server in zip(("client", "server"), self._servers, strict=True)
        }
        logger.info(
            "gateway %s: client side http://%s, provider side https://%s",
            self.code,
            f"{client_host}:{self.bound['client']}",
            f"{server_host}:{self.bound['server']}",
        )

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for server in self._servers:
            server.close()
        for handler in self._handlers:
            await handler.shutdown(0.25)
        for server in self._servers:
            await server.wait_closed()
        for session in [*self._sessions, *self._peer_sessions.values()]:
            await session.close()
        self.log.close()

    async def _refresh_loop(self) -> None:
        """Refresh at the configured interval; every few seconds while the gateway has no
        usable configuration (at first start, or after the central registry was down)."""
        while True:
            usable = self.conf.usable() is not None and not self.conf.last_error
            await asyncio.sleep(self.settings.refresh_seconds if usable else 2.0)
            await self.refresh()

    async def _every(self, seconds: float, job: Any) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await job()
            except Exception:
                logger.exception("gateway %s: periodic job failed", self.code)

    async def _housekeeping(self) -> None:
        self.log.seal()
        now = time.monotonic()
        for key in [key for key, expiry in self.seen.items() if expiry < now]:
            del self.seen[key]

    async def refresh(self) -> None:
        """Fetch the global configuration; on any failure keep the verified one we have."""
        try:
            async with self.central.get(self.settings.central_url) as answer:
                if answer.status != 200:
                    raise GlobalconfInvalid(
                        "unavailable", f"central registry answered {answer.status}"
                    )
                envelope = await answer.json(content_type=None)
            self.conf.accept(envelope)
            self.conf.store_cache(envelope)
            self.conf.last_error = ""
        except (TimeoutError, ClientError, ValueError, GlobalconfInvalid, OSError) as error:
            self.conf.last_error = str(error) or type(error).__name__
            logger.warning("gateway %s: global configuration not refreshed: %s", self.code, error)

    # --- client side -------------------------------------------------------------------------
    async def client_side(self, request: web.BaseRequest) -> web.StreamResponse:
        try:
            if request.path == "/listClients" and request.method == "GET":
                return self._list_clients(self._usable_client_side())
            return await self._client_call(request)
        except XRoadError as error:
            return error.response()
        except UnicodeError:
            return client_error("BadRequest", "header values must be UTF-8 text").response()

    def _usable_client_side(self) -> GlobalConf:
        conf = self.conf.usable()
        if conf is None:
            raise client_proxy_error(
                "OutdatedGlobalConf", "the global configuration is missing or expired"
            )
        return conf

    def _parse(self, request: web.BaseRequest) -> tuple[ClientId, Any, str, str]:
        raw_path, _, query = request.raw_path.partition("?")
        try:
            service, rest = service_path_parse(raw_path)
        except IdentifierError as error:
            raise client_error("BadRequest", f"invalid service path: {error}") from None
        header = request.headers.get("X-Road-Client")
        if not header:
            raise client_error("InvalidClientIdentifier", "the X-Road-Client header is missing")
        try:
            client = client_id_parse(header)
        except IdentifierError as error:
            raise client_error(
                "InvalidClientIdentifier", f"invalid X-Road-Client: {error}"
            ) from None
        if not client.subsystem_code:
            raise client_error("InvalidClientIdentifier", "the client must name a subsystem")
        return client, service, rest, query

    async def _client_call(self, request: web.BaseRequest) -> web.StreamResponse:
        client, service, _rest, _query = self._parse(request)
        conf = self._usable_client_side()
        client_text, service_text = str(client), str(service)
        subsystem = conf.subsystems.get(client_text)
        if subsystem is None or subsystem.get("gateway") != self.code:
            raise client_proxy_error(
                "UnknownMember", f"client {client_text} is not registered at gateway {self.code}"
            )
        if service.service_code not in METASERVICES:
            description = conf.services.get(service_text)
            if description is None:
                raise client_proxy_error(
                    "UnknownService", f"service {service_text} is not registered"
                )
            if description.get("personal_data"):
                self._require_purpose(request)
        peer = conf.gateway_of(str(service.provider))
        if peer is None:
            raise client_proxy_error(
                "UnknownMember", f"no gateway serves the provider {service.provider}"
            )
        body = await self._read_body(request)
        message_id = request.headers.get("X-Road-Id") or str(uuid.uuid4())
        request_id = str(uuid.uuid4())
        headers = _forwardable(request.headers.items())
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
        signature = messages.sign(self.signing_key, request_hash)
        entry = {
            "message_id": message_id,
            "request_id": request_id,
            "client": client_text,
            "service": service_text,
            "user_id": request.headers.get("X-Road-UserId", ""),
            "issue": request.headers.get("X-Road-Issue", ""),
            "purpose": request.headers.get(PURPOSE, ""),
        }
        self.log.message(
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
            async with self._peer_session(peer).request(
                request.method,
                URL(peer.address + request.raw_path, encoded=True),
                data=body or None,
                headers=outgoing,
                timeout=ClientTimeout(total=self.settings.service_timeout + 5),
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
            self.log.message(
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
            return web.Response(status=status, body=answer_body, headers=_to_client(answer_headers))
        response_hash = messages.message_hash(str(status), answer_headers, answer_body)
        answer_signature = lower.get("x-egov-signature", "")
        if lower.get("x-road-request-hash") != request_hash or not messages.verify(
            peer.signing_key, answer_signature, response_hash
        ):
            raise client_proxy_error(
                "InvalidSignatureValue", f"the response from {peer.code} is not signed by it"
            )
        self.log.certify(peer.code, peer.signing_certificate_pem)
        self.log.message(
            kind="response",
            side="client",
            status=status,
            hash=response_hash,
            request_hash=request_hash,
            signer=peer.code,
            signature=answer_signature,
            **entry,
        )
        return web.Response(status=status, body=answer_body, headers=_to_client(answer_headers))

    async def _read_body(self, request: web.BaseRequest) -> bytes:
        limit = self.settings.max_body_bytes
        if (request.content_length or 0) > limit:
            raise client_error("RequestTooLarge", f"the request body is larger than {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.content.iter_chunked(65536):
            size += len(chunk)
            if size > limit:
                raise client_error(
                    "RequestTooLarge", f"the request body is larger than {limit} bytes"
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _require_purpose(self, request: web.BaseRequest) -> None:
        if not request.headers.get("X-Road-UserId") or not request.headers.get(PURPOSE):
            raise client_error(
                "MissingPurpose",
                "a personal-data service needs X-Road-UserId and X-Egov-Purpose",
            )

    def _list_clients(self, conf: GlobalConf) -> web.Response:
        members = []
        for member in conf.members.values():
            instance, member_class, member_code = member["id"].split("/")
            members.append(
                {
                    "id": _identifier_json(
                        instance, member_class, member_code, object_type="MEMBER"
                    ),
                    "name": member.get("name", ""),
                }
            )
        for subsystem in conf.subsystems.values():
            instance, member_class, member_code, code = subsystem["id"].split("/")
            name = conf.members.get(subsystem["member"], {}).get("name", "")
            members.append(
                {
                    "id": _identifier_json(
                        instance,
                        member_class,
                        member_code,
                        object_type="SUBSYSTEM",
                        subsystem_code=code,
                    ),
                    "name": name,
                }
            )
        return _json_response({"member": members})

    # --- provider side -------------------------------------------------------------------------
    async def provider_side(self, request: web.BaseRequest) -> web.StreamResponse:
        try:
            return await self._provider_call(request)
        except XRoadError as error:
            return error.response()
        except UnicodeError:
            return client_error("BadRequest", "header values must be UTF-8 text").response()

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
        return peer

    async def _provider_call(self, request: web.BaseRequest) -> web.StreamResponse:
        conf = self.conf.usable()
        if conf is None:
            raise server_proxy_error(
                "OutdatedGlobalConf", "the global configuration is missing or expired"
            )
        peer = self._calling_gateway(request, conf)
        client, service, rest, query = self._parse(request)
        client_text, service_text = str(client), str(service)
        body = await self._read_body(request)
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
        message_id = request.headers.get("X-Road-Id", "")
        key = (client_text, message_id)
        if not message_id or key in self.seen:
            raise server_proxy_error(
                "DuplicateMessageId", f"message id {message_id!r} was already used"
            )
        self.seen[key] = time.monotonic() + REPLAY_WINDOW_SECONDS
        subsystem = conf.subsystems.get(client_text)
        if subsystem is None or subsystem.get("gateway") != peer.code:
            raise server_proxy_error(
                "AccessDenied", f"gateway {peer.code} does not serve client {client_text}"
            )
        entry = {
            "message_id": message_id,
            "request_id": request.headers.get("X-Road-Request-Id", ""),
            "client": client_text,
            "service": service_text,
            "user_id": request.headers.get("X-Road-UserId", ""),
            "issue": request.headers.get("X-Road-Issue", ""),
            "purpose": request.headers.get(PURPOSE, ""),
        }
        self.log.certify(peer.code, peer.signing_certificate_pem)
        self.log.message(
            kind="request",
            side="provider",
            method=request.method,
            hash=request_hash,
            signer=peer.code,
            signature=signature,
            **entry,
        )
        provider = conf.subsystems.get(str(service.provider))
        if provider is None or provider.get("gateway") != self.code:
            raise server_proxy_error("UnknownService", f"{service.provider} is not served here")
        if service.service_code in METASERVICES:
            status, answer_headers, answer_body = self._metaservice(
                conf, client_text, str(service.provider), service.service_code, request
            )
        else:
            status, answer_headers, answer_body = await self._service_call(
                conf, request, client_text, service_text, rest, query, body
            )
        answer_headers = [
            *_forwardable(answer_headers),
            ("X-Road-Id", message_id),
            ("X-Road-Client", client_text),
            ("X-Road-Service", service_text),
            ("X-Road-Request-Id", entry["request_id"]),
            ("X-Road-Request-Hash", request_hash),
        ]
        response_hash = messages.message_hash(str(status), answer_headers, answer_body)
        answer_signature = messages.sign(self.signing_key, response_hash)
        self.log.message(
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
        conf: GlobalConf,
        request: web.BaseRequest,
        client_text: str,
        service_text: str,
        rest: str,
        query: str,
        body: bytes,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        description = conf.services.get(service_text)
        base_url = self.settings.services.get(service_text)
        if description is None or base_url is None:
            raise server_proxy_error("UnknownService", f"service {service_text} is not served here")
        if not conf.allowed(client_text, service_text):
            raise server_proxy_error(
                "AccessDenied", f"{client_text} has no right to use {service_text}"
            )
        if description.get("personal_data"):
            self._require_purpose(request)
        headers = [
            *_forwardable(request.headers.items()),
            ("X-Road-Client", client_text),
            ("X-Road-Service", service_text),
            ("X-Road-Id", request.headers.get("X-Road-Id", "")),
            ("X-Egov-Gateway-Key", self.service_key),
        ]
        url = base_url.rstrip("/") + rest + (f"?{query}" if query else "")
        try:
            async with self.services.request(
                request.method,
                URL(url, encoded=True),
                data=body or None,
                headers=headers,
                timeout=ClientTimeout(total=self.settings.service_timeout),
                allow_redirects=False,
            ) as answer:
                return answer.status, list(answer.headers.items()), await answer.read()
        except TimeoutError:
            raise server_proxy_error(
                "ServiceFailed", f"{service_text} did not answer in time"
            ) from None
        except (ClientError, OSError) as error:
            raise server_proxy_error(
                "NetworkError", f"{service_text} cannot be reached: {error or type(error).__name__}"
            ) from None

    def _metaservice(
        self, conf: GlobalConf, client: str, provider: str, code: str, request: web.BaseRequest
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        services = [item for item in conf.services.values() if item.get("subsystem") == provider]
        if code == "getOpenAPI":
            wanted = request.query.get("serviceCode", "")
            matches = [item for item in services if item.get("service_code") == wanted]
            if not wanted or not matches:
                raise server_proxy_error("UnknownService", f"no service {wanted!r} at {provider}")
            document = matches[0].get("openapi") or ""
            if "application/json" in request.headers.get("Accept", ""):
                payload = json.dumps(yaml.safe_load(document), ensure_ascii=False, default=str)
                return 200, [("Content-Type", "application/json; charset=utf-8")], payload.encode()
            return 200, [("Content-Type", "text/yaml; charset=utf-8")], document.encode("utf-8")
        if code == "allowedMethods":
            services = [item for item in services if conf.allowed(client, item["id"])]
        listed = []
        for item in services:
            instance, member_class, member_code, subsystem_code, service_code = item["id"].split(
                "/"
            )
            listed.append(
                _identifier_json(
                    instance,
                    member_class,
                    member_code,
                    object_type="SERVICE",
                    subsystem_code=subsystem_code,
                    service_code=service_code,
                    service_type="OPENAPI" if item.get("openapi") else "REST",
                )
                | {"endpoint_list": item.get("endpoints", [])}
            )
        body = json.dumps({"service": listed}, ensure_ascii=False).encode("utf-8")
        return 200, [("Content-Type", "application/json; charset=utf-8")], body


def _json_response(document: Any) -> web.Response:
    return web.Response(
        body=json.dumps(document, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )


def _to_client(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The provider's answer as the information system sees it: without the gateways' own
    signature headers and hop-by-hop headers."""
    return [(name, value) for name, value in headers if name.lower() not in messages.UNSIGNED]


async def serve(settings: GatewaySettings) -> None:
    """Run until SIGTERM or SIGINT; the message log is sealed on the way out."""
    gateway = Gateway(settings)
    await gateway.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await gateway.stop()
