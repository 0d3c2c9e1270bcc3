"""The gateway process: its life cycle, its TLS and its connections.

One asyncio process serves both sides of a gateway (ADR 0007): the client proxy
(``clientproxy``) where the member's information systems call the exchange, and the server
proxy (``serverproxy``) over mutual TLS where other gateways deliver requests for the
providers served here; the metaservices (``metaservices``) and X-Road's errors (``errors``)
are shared by both. This module starts and stops them, builds their TLS contexts, keeps the
connection pools, refreshes the global configuration and seals the message log.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import ssl
from typing import Any

import structlog
from aiohttp import ClientError, ClientSession, ClientTimeout, TCPConnector, web

from egov.exchange.gateway.clientproxy import ClientProxy
from egov.exchange.gateway.conf import ConfHolder, GatewaySettings, Peer
from egov.exchange.gateway.messagelog import MessageLog
from egov.exchange.gateway.serverproxy import ServerProxy
from egov.exchange.globalconf import GlobalconfInvalid

logger = structlog.get_logger(__name__)


class Gateway:
    """One gateway: both sides, its configuration, its keys and its message log."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.code = settings.code
        self.conf = ConfHolder(settings)
        self.signing_key = settings.signing_private_key()
        self.signing_certificate_pem = settings.signing_certificate.read_text(encoding="ascii")
        self.provider_keys = settings.provider_keys()
        self.log = MessageLog(
            settings.log_dir, self.code, self.signing_key, self.signing_certificate_pem
        )
        self.client_proxy = ClientProxy(self)
        self.server_proxy = ServerProxy(self)
        self._sessions: list[ClientSession] = []
        self._peer_sessions: dict[str, ClientSession] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._servers: list[asyncio.Server] = []
        self._handlers: list[web.Server] = []
        #: The ports each side listens on (``client``, ``client_tls``, ``server``).
        self.bound: dict[str, int] = {}

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

    def client_side_tls(self) -> ssl.SSLContext:
        """TLS for information systems: this gateway's certificate; a client certificate is
        optional (connection type HTTPS_NO_AUTH) and, when presented, must chain to the
        platform's CA; whose it is, is decided per client (connection type HTTPS)."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.settings.tls_certificate, self.settings.tls_key)
        context.load_verify_locations(cadata=self._ca_file_contents())
        context.verify_mode = ssl.CERT_OPTIONAL
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

    def peer_session(self, peer: Peer) -> ClientSession:
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
        listeners = [
            ("client", self.client_proxy.handle, client_host, int(client_port), None),
            ("server", self.server_proxy.handle, server_host, int(server_port), self.server_tls()),
        ]
        if self.settings.client_tls_listen:
            tls_host, tls_port = self.settings.client_tls_listen.rsplit(":", 1)
            listeners.append(
                (
                    "client_tls",
                    self.client_proxy.handle,
                    tls_host,
                    int(tls_port),
                    self.client_side_tls(),
                )
            )
        self.bound = {}
        for side, handle, host, port, context in listeners:
            handler = web.Server(handle)
            server = await loop.create_server(handler, host, port, ssl=context)
            self._handlers.append(handler)
            self._servers.append(server)
            self.bound[side] = int(server.sockets[0].getsockname()[1])
        logger.info(
            "gateway_started",
            gateway=self.code,
            client=f"http://{client_host}:{self.bound['client']}",
            client_tls=self.bound.get("client_tls"),
            server=f"https://{server_host}:{self.bound['server']}",
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
                logger.exception("gateway_job_failed", gateway=self.code)

    async def _housekeeping(self) -> None:
        self.log.seal()
        self.server_proxy.forget_expired()

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
            logger.warning("globalconf_not_refreshed", gateway=self.code, reason=str(error))


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
