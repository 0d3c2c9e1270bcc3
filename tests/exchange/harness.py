"""Two real gateways on loopback, a central registry stand-in and a recording service.

The gateways are the production code (``egov.exchange.gateway.server.Gateway``) with real keys
from a fresh PKI and real mutual TLS; they run in one event loop in a background thread. The
"central registry" here serves an envelope the test controls (signed with the real central
key), so a test can take it down, let it expire or hand out a forged one; the Django view that
builds the real one has its own tests.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import urllib3
from aiohttp import web

from egov.core.exchange_files import provider_key_path
from egov.exchange.gateway.conf import GatewaySettings
from egov.exchange.gateway.server import Gateway
from egov.exchange.globalconf import FORMAT, globalconf_sign, timestamp
from egov.trust.pki import (
    certificate_current,
    certificate_issue,
    certificate_pem,
    fingerprint_sha256,
    load_certificate,
    load_private_key,
    pki_init,
    tls_key_password,
)
from tests.ports import free_port

INSTANCE = "BY"
PORTAL = "BY/GOV/NCES/portal"
OFFICE = "BY/GOV/MVD/backoffice"
#: Connection type HTTP: plain HTTP, no certificate (the curl tutorials' subsystem).
TRAINING = "BY/GOV/NCES/training"
#: Connection type HTTPS_NO_AUTH: TLS, no client certificate.
KIOSK = "BY/GOV/NCES/kiosk"
#: A member without a subsystem as a client (PR-REST: the subsystem code is optional).
MEMBER = "BY/GOV/NCES"
STRANGER = "BY/COM/ACME/crm"
PROVIDER = "BY/GOV/MVD/population"
PERSON = f"{PROVIDER}/person"
ECHO = f"{PROVIDER}/echo"
#: A second provider behind the same gateway, with its own credential.
ADDRESSES = "BY/GOV/NKA/addresses"
ADDRESS = f"{ADDRESSES}/address"
OPENAPI = "openapi: 3.0.0\ninfo: {title: Person, version: '1'}\npaths: {}\n"


GATEWAYS = ("GW-A", "GW-B", "GW-ROGUE", "GW-UNKNOWN")
#: Information systems' certificates (profile information-system): the portal's and the
#: back office's are registered for their subsystems, the stranger's for nobody.
INFORMATION_SYSTEMS = {"portal-is": PORTAL, "office-is": OFFICE, "stranger-is": "stranger"}
#: The certificate each client presents when a test does not say otherwise.
CLIENT_CERTIFICATES = {PORTAL: "portal-is", OFFICE: "office-is"}
_TEMPLATE: list[Path] = []


def _pki_template() -> Path:
    """One PKI per test run (keys take time); each stack works on its own copy."""
    if not _TEMPLATE:
        directory = Path(tempfile.mkdtemp(prefix="egov-pki-")) / "pki"
        pki_init(directory=directory)
        certificate_issue(
            directory=directory,
            profile="central-signing",
            common_name="Central",
            name="central-signing",
        )
        for code in GATEWAYS:
            certificate_issue(
                directory=directory,
                profile="gateway-tls",
                common_name=code,
                ip_addresses=["127.0.0.1"],
                name=f"{code}-tls",
            )
            certificate_issue(
                directory=directory,
                profile="gateway-signing",
                common_name=code,
                name=f"{code}-signing",
            )
        for name, common_name in INFORMATION_SYSTEMS.items():
            certificate_issue(
                directory=directory,
                profile="information-system",
                common_name=common_name,
                name=name,
            )
        _TEMPLATE.append(directory)
    return _TEMPLATE[0]


class Recorder:
    """The provider's service: answers with what it received, remembers every call."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        call = {
            "method": request.method,
            "path": request.raw_path,
            # Every header as received, in order: a duplicate must not hide behind another.
            "headers": list(request.headers.items()),
            "body": body.decode("utf-8", "replace"),
        }
        self.calls.append(call)
        if request.path.endswith("/missing"):
            return web.json_response({"code": "not_found", "status": 404}, status=404)
        if request.path.endswith("/slow"):
            await asyncio.sleep(3)
        return web.json_response({"received": call})


class Running:
    """Gateways set up by ``egov exchange setup`` (from their gateway.json), running in one
    event loop in a background thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.gateways: dict[str, Gateway] = {}

    def run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)

    def stop(self) -> None:
        for gateway in self.gateways.values():
            self.run(gateway.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)

    def plain_url(self, code: str = "GW-PORTAL") -> str:
        """The gateway's plain HTTP client side (connection type HTTP)."""
        return f"http://127.0.0.1:{self.gateways[code].bound['client']}"


def header_values(headers: Any, name: str) -> list[str]:
    """Every value of ``name`` (any case) in headers recorded as ``[name, value]`` pairs."""
    return [value for key, value in headers if key.lower() == name.lower()]


def header(headers: Any, name: str) -> str:
    """The one value of ``name``; none or several fail the test."""
    values = header_values(headers, name)
    assert len(values) == 1, f"{name}: expected exactly one value, received {values!r}"
    return values[0]


def header_names(headers: Any) -> list[str]:
    """The names received, lower-cased, in order."""
    return [key.lower() for key, _ in headers]


class Stack:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.pki = directory / "pki"
        shutil.copytree(_pki_template(), self.pki)
        self.central_cert = certificate_current(directory=self.pki, name="central-signing")
        # Servers bind port 0 and report the port they got: no race with other processes.
        self.ports = dict.fromkeys(
            (
                "central",
                "service",
                "a-client",
                "a-client-tls",
                "a-server",
                "b-client",
                "b-client-tls",
                "b-server",
            ),
            0,
        )
        self.certs: dict[str, Any] = {
            f"{code}-{use}": certificate_current(directory=self.pki, name=f"{code}-{use}")
            for code in GATEWAYS
            for use in ("tls", "signing")
        }
        for name in INFORMATION_SYSTEMS:
            self.certs[name] = certificate_current(directory=self.pki, name=name)
        #: Connection type and registered certificates of each client, as the central
        #: registry publishes them.
        self.connection_types = {PORTAL: "HTTPS", OFFICE: "HTTPS", TRAINING: "HTTP", MEMBER: "HTTP"}
        self.connection_types[KIOSK] = "HTTPS_NO_AUTH"
        self.client_certificates = {PORTAL: ["portal-is"], OFFICE: ["office-is"]}
        #: Names of members that a test changes.
        self.member_names: dict[str, str] = {}
        self.provider_keys = {PROVIDER: "population-key-for-tests", ADDRESSES: "addresses-key"}
        self.provider_credentials: dict[str, Path] = {}
        for provider, key in self.provider_keys.items():
            path = provider_key_path(directory / "provider-keys", provider)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(key + "\n")
            self.provider_credentials[provider] = path
        self.recorder = Recorder()
        self.serial = 1
        self.validity = timedelta(minutes=10)
        self.central_up = True
        self.rights: list[dict[str, Any]] = [
            right(PORTAL, PERSON, purposes=[PREFILL, CHECK]),
            right(PORTAL, ECHO),
            right(OFFICE, PERSON, purposes=[CHECK]),
            right(TRAINING, ECHO),
            right(KIOSK, ECHO),
            right(PORTAL, ADDRESS),
            right(MEMBER, ECHO),
        ]
        self.revoked: list[int] = []
        self.envelope_override: dict[str, Any] | None = None
        self.http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(10))
        self._tls_pools: dict[str, urllib3.PoolManager] = {}
        self.loop = asyncio.new_event_loop()
        self.gateways: dict[str, Gateway] = {}
        self._runners: list[web.AppRunner] = []

    # --- the configuration ------------------------------------------------------------------
    def pem(self, name: str) -> str:
        return certificate_pem(load_certificate(self.certs[name].certificate_path))

    def fingerprint(self, name: str) -> str:
        return fingerprint_sha256(load_certificate(self.certs[name].certificate_path))

    def _client(self, client: str) -> dict[str, Any]:
        """What format 2 says of a client: its connection type and certificates (a missing
        connection type means HTTPS)."""
        described: dict[str, Any] = {}
        if client in self.connection_types:
            described["connection_type"] = self.connection_types[client]
        described["client_certificates"] = [
            self.fingerprint(name) for name in self.client_certificates.get(client, [])
        ]
        return described

    def grant(self, client: str, service: str, **fields: Any) -> None:
        self.rights.append(right(client, service, **fields))

    def withdraw(self, client: str, service: str) -> None:
        self.rights = [
            item for item in self.rights if (item["client"], item["service"]) != (client, service)
        ]

    def content(self) -> dict[str, Any]:
        now = datetime.now(UTC)
        return {
            "format": FORMAT,
            "instance": INSTANCE,
            "serial": self.serial,
            "generated_at": timestamp(now),
            "expires_at": timestamp(now + self.validity),
            "ca_certificates": [],
            "revoked_serials": list(self.revoked),
            "members": [self._named(member) for member in self._members()],
            "subsystems": self._subsystems(),
            "gateways": self._gateways(),
            "services": self._services(),
            "access_rights": [dict(item) for item in self.rights],
        }

    def _named(self, member: dict[str, Any]) -> dict[str, Any]:
        return {**member, "name": self.member_names.get(member["id"], member["name"])}

    def _members(self) -> list[dict[str, Any]]:
        return [
            {
                "id": MEMBER,
                "member_class": "GOV",
                "member_code": "NCES",
                "name": "NCES",
                "gateway": "GW-A",
                **self._client(MEMBER),
            },
            {
                "id": "BY/GOV/MVD",
                "member_class": "GOV",
                "member_code": "MVD",
                "name": "Ministry of Internal Affairs",
            },
            {"id": "BY/COM/ACME", "member_class": "COM", "member_code": "ACME", "name": "Acme"},
            {
                "id": "BY/GOV/NKA",
                "member_class": "GOV",
                "member_code": "NKA",
                "name": "National Cadastral Agency",
            },
        ]

    def _subsystems(self) -> list[dict[str, Any]]:
        return [
            {
                "id": PORTAL,
                "member": "BY/GOV/NCES",
                "subsystem_code": "portal",
                "gateway": "GW-A",
                **self._client(PORTAL),
            },
            {
                "id": OFFICE,
                "member": "BY/GOV/MVD",
                "subsystem_code": "backoffice",
                "gateway": "GW-A",
                **self._client(OFFICE),
            },
            {
                "id": TRAINING,
                "member": "BY/GOV/NCES",
                "subsystem_code": "training",
                "gateway": "GW-A",
                **self._client(TRAINING),
            },
            {
                "id": KIOSK,
                "member": "BY/GOV/NCES",
                "subsystem_code": "kiosk",
                "gateway": "GW-A",
                **self._client(KIOSK),
            },
            {
                "id": STRANGER,
                "member": "BY/COM/ACME",
                "subsystem_code": "crm",
                "gateway": "GW-ROGUE",
                **self._client(STRANGER),
            },
            {
                "id": PROVIDER,
                "member": "BY/GOV/MVD",
                "subsystem_code": "population",
                "gateway": "GW-B",
                **self._client(PROVIDER),
            },
            {
                "id": ADDRESSES,
                "member": "BY/GOV/NKA",
                "subsystem_code": "addresses",
                "gateway": "GW-B",
                **self._client(ADDRESSES),
            },
        ]

    def _gateways(self) -> list[dict[str, str]]:
        return [
            self._gateway("GW-A", self.ports["a-server"]),
            self._gateway("GW-B", self.ports["b-server"]),
            self._gateway("GW-ROGUE", free_port()),
        ]

    def _services(self) -> list[dict[str, Any]]:
        return [
            {
                "id": PERSON,
                "subsystem": PROVIDER,
                "service_code": "person",
                "title": "Person",
                "personal_data": True,
                "endpoints": [{"method": "GET", "path": "/*"}],
                "openapi": OPENAPI,
            },
            {
                "id": ECHO,
                "subsystem": PROVIDER,
                "service_code": "echo",
                "title": "Echo",
                "personal_data": False,
                "endpoints": [{"method": "*", "path": "/**"}],
                "openapi": "",
            },
            {
                "id": ADDRESS,
                "subsystem": ADDRESSES,
                "service_code": "address",
                "title": "Address",
                "personal_data": False,
                "endpoints": [{"method": "GET", "path": "/*"}],
                "openapi": "",
            },
        ]

    def _gateway(self, code: str, port: int) -> dict[str, str]:
        return {
            "code": code,
            "owner": "BY/GOV/NCES",
            "address": f"https://127.0.0.1:{port}",
            "tls_certificate": self.pem(f"{code}-tls"),
            "signing_certificate": self.pem(f"{code}-signing"),
        }

    def envelope(self) -> dict[str, Any]:
        if self.envelope_override is not None:
            return self.envelope_override
        return globalconf_sign(
            content=self.content(),
            private_key=load_private_key(self.central_cert.key_path),
            certificate=load_certificate(self.central_cert.certificate_path),
        )

    def settings_for(
        self, code: str, client_port: int, server_port: int, client_tls_port: int = 0
    ) -> GatewaySettings:
        folder = self.directory / code
        return GatewaySettings(
            code=code,
            instance=INSTANCE,
            client_listen=f"127.0.0.1:{client_port}",
            client_tls_listen=f"127.0.0.1:{client_tls_port}",
            server_listen=f"127.0.0.1:{server_port}",
            central_url=f"http://127.0.0.1:{self.ports['central']}/exchange/globalconf",
            anchor=self.central_cert.certificate_path,
            tls_key=self.certs[f"{code}-tls"].key_path,
            tls_certificate=self.certs[f"{code}-tls"].certificate_path,
            signing_key=self.certs[f"{code}-signing"].key_path,
            signing_certificate=self.certs[f"{code}-signing"].certificate_path,
            ca_certificates=[self.pki / "root.cert.pem", self.pki / "issuing.cert.pem"],
            services={
                PERSON: f"http://127.0.0.1:{self.ports['service']}/registries/population/v1/persons",
                ECHO: f"http://127.0.0.1:{self.ports['service']}/echo",
                ADDRESS: f"http://127.0.0.1:{self.ports['service']}/addresses",
            },
            provider_credentials=dict(self.provider_credentials),
            cache_file=folder / "globalconf.json",
            log_dir=folder / "messagelog",
            refresh_seconds=3600,
            max_body_bytes=64 * 1024,
            service_timeout=1.5,
        )

    def write_settings(
        self, code: str, client_port: int, server_port: int, client_tls_port: int = 0
    ) -> Path:
        """gateway.json for a gateway run as its own process (``egov gateway run``)."""
        settings = self.settings_for(code, client_port, server_port, client_tls_port)
        folder = self.directory / code
        folder.mkdir(parents=True, exist_ok=True)
        document = {
            key: (str(value) if isinstance(value, Path) else value)
            for key, value in settings.__dict__.items()
        }
        document["ca_certificates"] = [str(path) for path in settings.ca_certificates]
        document["provider_credentials"] = {
            provider: str(path) for provider, path in settings.provider_credentials.items()
        }
        path = folder / "gateway.json"
        path.write_text(json.dumps(document))
        return path

    # --- running -----------------------------------------------------------------------------
    async def _central(self, request: web.Request) -> web.Response:
        if not self.central_up:
            return web.Response(status=503)
        return web.json_response(self.envelope())

    async def serve(self, name: str, app: web.Application) -> None:
        """Serve ``app`` on a free port of 127.0.0.1 until the stack stops (``ports[name]``)."""
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        self.ports[name] = int(runner.addresses[0][1])
        self._runners.append(runner)

    async def serve_post(self, name: str, path: str, handler: Any) -> None:
        """A one-route server (a TSA, an OCSP responder) for the gateways to call."""
        app = web.Application()
        app.router.add_post(path, handler)
        await self.serve(name, app)

    def wait_for(self, condition: Any, what: str, seconds: float = 20) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"never happened: {what}")
            time.sleep(0.05)

    async def _start(self, gateways: bool) -> None:
        central = web.Application()
        central.router.add_get("/exchange/globalconf", self._central)
        service = web.Application()
        service.router.add_route("*", "/{tail:.*}", self.recorder.handle)
        for app, name in ((central, "central"), (service, "service")):
            await self.serve(name, app)
        if gateways:
            for code, side in (("GW-A", "a"), ("GW-B", "b")):
                gateway = Gateway(self.settings_for(code, 0, 0))
                await gateway.start()
                self.ports[f"{side}-client"] = gateway.bound["client"]
                self.ports[f"{side}-client-tls"] = gateway.bound["client_tls"]
                self.ports[f"{side}-server"] = gateway.bound["server"]
                self.gateways[code] = gateway
            # The configuration the gateways fetched at start did not know their ports yet:
            # the central registry's serial moves with every change, addresses included.
            self.serial += 1
            for gateway in self.gateways.values():
                await gateway.refresh()

    def start(self, gateways: bool = True) -> Stack:
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.run(self._start(gateways))
        return self

    def run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)

    async def _stop(self) -> None:
        for gateway in self.gateways.values():
            await gateway.stop()
        for runner in self._runners:
            await runner.cleanup()

    def stop(self) -> None:
        self.run(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.http.clear()
        for pool in self._tls_pools.values():
            pool.clear()

    def refresh(self, code: str = "") -> None:
        for name, gateway in self.gateways.items():
            if not code or code == name:
                self.run(gateway.refresh())

    def log_records(self, code: str, kind: str = "request") -> list[dict[str, Any]]:
        """The records of one kind in a running gateway's message log (flushed per message)."""
        path = self.gateways[code].log.path
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        return [row for row in rows if row["kind"] == kind]

    # --- calling -------------------------------------------------------------------------------
    @property
    def client_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['a-client']}"

    @property
    def client_tls_url(self) -> str:
        return f"https://127.0.0.1:{self.ports['a-client-tls']}"

    def tls_pool(self, certificate: str | None) -> urllib3.PoolManager:
        """HTTPS to the gateways' TLS client side, presenting ``certificate`` (or none)."""
        import ssl

        key = certificate or ""
        if key not in self._tls_pools:
            context = ssl.create_default_context(cafile=str(self.pki / "issuing.cert.pem"))
            context.load_verify_locations(cafile=str(self.pki / "root.cert.pem"))
            if certificate:
                issued = self.certs[certificate]
                context.load_cert_chain(
                    str(issued.certificate_path), str(issued.key_path), password=tls_key_password
                )
            self._tls_pools[key] = urllib3.PoolManager(
                retries=False, timeout=urllib3.Timeout(10), ssl_context=context
            )
        return self._tls_pools[key]

    def call(
        self,
        path: str,
        *,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        body: Any = None,
        client: str | None = PORTAL,
        certificate: str | None = "",
        tls: bool | None = None,
        **options: Any,
    ) -> urllib3.BaseHTTPResponse:
        """Call GW-A's client side as an information system would. By default a client
        with a certificate presents it over TLS and any other calls over plain HTTP;
        ``certificate=None`` presents none, ``tls`` forces the transport."""
        sent = dict(headers or {})
        if client is not None:
            sent.setdefault("X-Road-Client", client)
        if certificate == "":
            certificate = CLIENT_CERTIFICATES.get(client or "")
        if tls is None:
            tls = certificate is not None
        if not tls:
            return self.http.request(
                method, self.client_url + path, headers=sent, body=body, **options
            )
        return self.tls_pool(certificate).request(
            method, self.client_tls_url + path, headers=sent, body=body, **options
        )


PREFILL = {
    "code": "prefill",
    "text": {
        "be": "Запаўненне заявы асобы",
        "ru": "Заполнение заявления лица",
        "en": "Prefilling the person's own application",
    },
    "legal_basis": {
        "be": "Закон 433-З, арт. 21",
        "ru": "Закон 433-З, ст. 21",
        "en": "Law 433-Z, art. 21",
    },
}
CHECK = {
    "code": "check",
    "text": {
        "be": "Праверка звестак заявы",
        "ru": "Проверка сведений заявления",
        "en": "Checking an application's facts",
    },
    "legal_basis": {
        "be": "Закон 433-З, арт. 22",
        "ru": "Закон 433-З, ст. 22",
        "en": "Law 433-Z, art. 22",
    },
}


def right(
    client: str,
    service: str,
    *,
    endpoints: list[dict[str, str]] | None = None,
    purposes: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An access right of format 2: no endpoints grant the whole service."""
    return {
        "client": client,
        "service": service,
        "endpoints": list(endpoints or []),
        "purposes": list(purposes or []),
    }


def signed_headers(
    stack: Stack,
    signer: str,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes = b"",
    omit: tuple[str, ...] = (),
) -> dict[str, str]:
    """What a gateway sends to another one: the request's headers, signed with ``signer``'s
    key; ``omit`` leaves out some of the headers a gateway always sends."""
    import time
    import uuid

    from egov.exchange.gateway import messages

    sent = {
        "Accept": "application/json",
        "Accept-Encoding": "identity",
        "X-Road-Id": str(uuid.uuid4()),
        "X-Road-Request-Id": str(uuid.uuid4()),
        "X-Egov-Time": str(int(time.time())),
        **headers,
    }
    for name in omit:
        del sent[name]
    request_hash = messages.message_hash(f"{method} {path}", list(sent.items()), body)
    key = load_private_key(stack.certs[f"{signer}-signing"].key_path)
    sent["X-Egov-Signature"] = messages.sign(key, request_hash)
    sent["X-Egov-Signer"] = signer
    return sent


def direct(
    stack: Stack, tls: str, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> urllib3.BaseHTTPResponse:
    """Call GW-B's provider side over mutual TLS presenting the certificate called ``tls``."""
    import ssl

    context = ssl.create_default_context(cafile=str(stack.pki / "issuing.cert.pem"))
    context.load_verify_locations(cafile=str(stack.pki / "root.cert.pem"))
    context.check_hostname = False
    context.load_cert_chain(
        str(stack.certs[tls].certificate_path),
        str(stack.certs[tls].key_path),
        password=tls_key_password,
    )
    pool = urllib3.HTTPSConnectionPool(
        "127.0.0.1",
        stack.ports["b-server"],
        ssl_context=context,
        retries=False,
        assert_hostname=False,
        timeout=urllib3.Timeout(10),
    )
    try:
        return pool.request(method, path, headers=headers, body=body or None)
    finally:
        pool.close()
