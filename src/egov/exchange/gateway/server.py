"""The gateway process: its life cycle, its TLS and its connections.

One asyncio process serves both sides of a gateway (ADR 0007): the client proxy
(``clientproxy``) where the member's information systems call the exchange, and the server
proxy (``serverproxy``) over mutual TLS where other gateways deliver requests for the
providers served here; the metaservices (``metaservices``) and X-Road's errors (``errors``)
are shared by both. This module starts and stops them, builds their TLS contexts, keeps the
connection pools, refreshes the global configuration, seals the message log, has its seals
timestamped by the platform's TSA (``timestamping``) and answers the health checks on a
listener of its own (``health_listen``): ``GET /healthz`` (the process answers) and
``GET /readyz`` (the global configuration is valid, the seals' timestamps are within their
grace period and both sides listen).
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
from egov.exchange.gateway.ocsp import PeerStatuses
from egov.exchange.gateway.serverproxy import ServerProxy
from egov.exchange.gateway.timestamping import Timestamping
from egov.exchange.globalconf import GlobalconfInvalid
from egov.trust.pki import tls_key_password

logger = structlog.get_logger(__name__)


class GatewayStartError(Exception):
    """A side could not start (its address taken, not this host's, not allowed): the
    message names the side and the address."""


def _host_port(address: str) -> tuple[str, int]:
    host, port = address.rsplit(":", 1)
    return host.strip("[]"), int(port)


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
        self.timestamping = Timestamping(settings, self.log)
        self.peer_statuses = PeerStatuses(settings)
        self.client_proxy = ClientProxy(self)
        self.server_proxy = ServerProxy(self)
        self._sessions: list[ClientSession] = []
        self._peer_sessions: dict[str, ClientSession] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._servers: list[asyncio.Server] = []
        self._handlers: list[web.Server] = []
        #: The ports each side listens on (``client``, ``client_tls``, ``server``, ``health``).
        self.bound: dict[str, int] = {}
        self._listening: dict[str, asyncio.Server] = {}

    # --- TLS -----------------------------------------------------------------------------
    def _ca_file_contents(self) -> str:
        return "".join(path.read_text(encoding="ascii") for path in self.settings.ca_certificates)

    def server_tls(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(
            self.settings.tls_certificate, self.settings.tls_key, password=tls_key_password
        )
        context.load_verify_locations(cadata=self._ca_file_contents())
        context.verify_mode = ssl.CERT_REQUIRED
        return context

    def client_side_tls(self) -> ssl.SSLContext:
        """TLS for information systems: this gateway's certificate; a client certificate is
        optional (connection type HTTPS_NO_AUTH) and, when presented, must chain to the
        platform's CA; whose it is, is decided per client (connection type HTTPS)."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(
            self.settings.tls_certificate, self.settings.tls_key, password=tls_key_password
        )
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
        context.load_cert_chain(
            self.settings.tls_certificate, self.settings.tls_key, password=tls_key_password
        )
        return context

    def central_tls(self) -> ssl.SSLContext:
        """TLS towards the central registry: its certificate must chain to the configured
        CA bundle (``central_ca_file``), else to the system's trust store, and name the host.
        The configuration it serves is verified against the anchor all the same."""
        ca_file = self.settings.central_ca_file
        try:
            context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        except (OSError, ssl.SSLError) as error:
            raise GatewayStartError(
                f"gateway {self.code} cannot read the central registry's CA file {ca_file}: "
                f"{getattr(error, 'strerror', None) or error}"
            ) from None
        context.minimum_version = ssl.TLSVersion.TLSv1_2
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

    # --- health checks ----------------------------------------------------------------------
    def readiness(self) -> dict[str, Any]:
        """``GET /readyz``'s answer: ready when the global configuration is valid, the message
        log's seals have their timestamps within the grace period (with a TSA configured) and
        the client side (plain HTTP and, when configured, TLS) and the provider side listen."""

        def listening(*sides: str) -> bool:
            return all(
                side in self._listening and self._listening[side].is_serving() for side in sides
            )

        client_sides = ("client", "client_tls") if self.settings.client_tls_listen else ("client",)
        globalconf = self.conf.status()
        timestamping = self.timestamping.status()
        report: dict[str, Any] = {"globalconf": globalconf}
        if timestamping["enabled"]:
            report["timestamping"] = timestamping
        report["client_side"] = {"listening": listening(*client_sides)}
        report["provider_side"] = {"listening": listening("server")}
        ready = (
            globalconf["valid"]
            and timestamping["ok"]
            and report["client_side"]["listening"]
            and report["provider_side"]["listening"]
        )
        return {"status": "ready" if ready else "not_ready", **report}

    async def health(self, request: web.BaseRequest) -> web.StreamResponse:
        """The health listener: liveness, readiness; nothing else, no personal data."""
        headers = {"Cache-Control": "no-store"}
        if request.method not in {"GET", "HEAD"}:
            return web.json_response({"status": "method_not_allowed"}, status=405, headers=headers)
        if request.path == "/healthz":
            return web.json_response({"status": "ok"}, headers=headers)
        if request.path == "/readyz":
            report = self.readiness()
            status = 200 if report["status"] == "ready" else 503
            return web.json_response(report, status=status, headers=headers)
        return web.json_response({"status": "not_found"}, status=404, headers=headers)

    # --- life cycle ------------------------------------------------------------------------
    async def _listen(
        self, side: str, handle: Any, address: str, context: ssl.SSLContext | None
    ) -> None:
        host, port = _host_port(address)
        # aiohttp's own access line names the client's address and the path: egov's
        # (``EGOV_ACCESS_LOG``) takes its place.
        handler = web.Server(handle, access_log=None)
        try:
            server = await asyncio.get_running_loop().create_server(
                handler, host, port, ssl=context
            )
        except OSError as error:
            raise GatewayStartError(
                f"gateway {self.code} cannot listen on {address} ({side.replace('_', ' ')} "
                f"side): {error.strerror or error}"
            ) from None
        self._handlers.append(handler)
        self._servers.append(server)
        self._listening[side] = server
        self.bound[side] = int(server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        """Bind the health listener, fetch the configuration, bind both sides; says
        ``listening`` only once every socket is bound. A side that cannot bind raises
        :class:`GatewayStartError` with everything started so far stopped again."""
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        limit = 256
        self.services = ClientSession(
            connector=TCPConnector(limit=limit, limit_per_host=limit),
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
        )
        self.central = ClientSession(
            connector=TCPConnector(ssl=self.central_tls()), timeout=ClientTimeout(total=10)
        )
        self._sessions = [self.services, self.central]
        if self.settings.tsa_url:
            self._sessions.append(await self.timestamping.open(self.central_tls()))
        if self.settings.ocsp_url:
            self.peer_statuses.session = ClientSession(
                connector=TCPConnector(ssl=self.central_tls())
            )
            self._sessions.append(self.peer_statuses.session)
        self.bound = {}
        if self.settings.health_listen:
            # First, so that readiness says "not ready" while the configuration is fetched.
            await self._listen("health", self.health, self.settings.health_listen, None)
        self.conf.load_cache()
        await self.refresh()
        await self.peer_statuses.refresh(self.conf.usable())
        self._tasks = [
            asyncio.create_task(self._refresh_loop()),
            asyncio.create_task(self._every(1.0, self._housekeeping)),
        ]
        if self.settings.ocsp_url:
            self._tasks.append(asyncio.create_task(self._ocsp_loop()))
        if self.settings.tsa_url:
            self._tasks.append(
                asyncio.create_task(
                    self._every(self.settings.timestamp_interval, self.timestamping.run)
                )
            )
        await self._listen("client", self.client_proxy.handle, self.settings.client_listen, None)
        await self._listen(
            "server", self.server_proxy.handle, self.settings.server_listen, self.server_tls()
        )
        if self.settings.client_tls_listen:
            await self._listen(
                "client_tls",
                self.client_proxy.handle,
                self.settings.client_tls_listen,
                self.client_side_tls(),
            )

        def url(scheme: str, side: str, address: str) -> str | None:
            if side not in self.bound:
                return None
            return f"{scheme}://{_host_port(address)[0]}:{self.bound[side]}"

        logger.info(
            "listening",
            gateway=self.code,
            client=url("http", "client", self.settings.client_listen),
            client_tls=url("https", "client_tls", self.settings.client_tls_listen),
            server=url("https", "server", self.settings.server_listen),
            health=url("http", "health", self.settings.health_listen),
        )

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self.timestamping.session is not None and not self.timestamping.session.closed:
            # The last seals get their token on the way out, when the TSA answers at once.
            self.log.seal()
            await self.timestamping.run(timeout=2.0)
        for server in self._servers:
            server.close()
        for handler in self._handlers:
            await handler.shutdown(0.25)
        for server in self._servers:
            await server.wait_closed()
        for session in [*self._sessions, *self._peer_sessions.values()]:
            await session.close()
        self._servers, self._handlers, self._sessions, self._tasks = [], [], [], []
        self._peer_sessions, self._listening = {}, {}
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

    async def _ocsp_loop(self) -> None:
        """Ask at the configured interval; every couple of seconds while a peer has no
        status yet (at first start, or when the responder was away)."""
        while True:
            complete = self.peer_statuses.complete(self.conf.usable())
            interval = self.settings.ocsp_interval
            await asyncio.sleep(interval if complete else min(2.0, interval))
            try:
                await self.peer_statuses.refresh(self.conf.usable())
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
            logger.warning(
                "globalconf_not_refreshed",
                gateway=self.code,
                central_url=self.settings.central_url,
                reason=self.conf.last_error,
            )


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
