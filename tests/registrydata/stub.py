"""A stand-in for the local exchange gateway: a small HTTP server on loopback that answers
``/r1/<service id>/<path>`` with registry-shaped JSON, records what it was sent, and can be
switched to "down" (its port closed) or to answer an X-Road error. Given a server TLS context
it is the gateway's TLS client side instead, and records the client certificate each request
came with.

Import the fixtures into a ``conftest.py``: ``exchange`` (the stub, reachable) and
``exchange_down`` (autouse there: no test reaches a real gateway on the default port).
"""

from __future__ import annotations

import hashlib
import json
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.ports import free_port

PERSON_SERVICE = "BY/GOV/MVD/population/person"
FAMILY_SERVICE = "BY/GOV/MVD/population/family"
ENTITY_SERVICE = "BY/GOV/MINJUST/legal-entities/entity"
DIRECTED_BY_SERVICE = "BY/GOV/MINJUST/legal-entities/directed-by"
POPULATION_LOG = "BY/GOV/MVD/population/data-access-log"
ENTITIES_LOG = "BY/GOV/MINJUST/legal-entities/data-access-log"


def person(personal_number: str, **changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "personal_number": personal_number,
        "last_name": {"be": "Каваленка", "ru": "Коваленко", "lat": "Kavalenka"},
        "first_name": {"be": "Алена", "ru": "Елена", "lat": "Alena"},
        "patronymic": {"be": "Іванаўна", "ru": "Ивановна", "lat": "Ivanauna"},
        "birth_date": "1990-04-12",
        "sex": "F",
        "citizenship": "BY",
        "status": "alive",
        "death_date": None,
        "address": {
            "id": "A-1",
            "postal_code": "220030",
            "locality": "Мінск",
            "street": "вул. Леніна",
            "house": "5",
            "flat": "12",
            "text": {
                "be": "220030, г. Мінск, вул. Леніна, д. 5, кв. 12",
                "ru": "220030, г. Минск, ул. Ленина, д. 5, кв. 12",
            },
        },
        "documents": [],
    }
    document.update(changes)
    return document


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    #: SHA-256 (hex) of the client certificate of the connection; "" without one.
    client_certificate: str = ""
    #: The caller's port: which connection the request came on.
    client_port: int = 0


@dataclass
class ExchangeStub:
    """Answers by ``(service id, path)``; ``mode`` is "up", "down" or "xroad_error"."""

    port: int
    answers: dict[tuple[str, str], tuple[int, Any]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    mode: str = "up"
    xroad_error: str = "Server.ServerProxy.ServiceFailed"
    server: ThreadingHTTPServer | None = None
    thread: threading.Thread | None = None
    tls: ssl.SSLContext | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def answer(self, service: str, path: str, document: Any, status: int = 200) -> None:
        self.answers[(service, path)] = (status, document)

    def start(self) -> None:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                certificate = b""
                if isinstance(self.connection, ssl.SSLSocket):
                    certificate = self.connection.getpeercert(binary_form=True) or b""
                stub.received.append(
                    Received(
                        "GET",
                        self.path,
                        dict(self.headers.items()),
                        hashlib.sha256(certificate).hexdigest() if certificate else "",
                        self.client_address[1],
                    )
                )
                if stub.mode == "xroad_error":
                    self._send(
                        500,
                        {
                            "type": stub.xroad_error,
                            "message": "the exchange refused or failed",
                            "detail": "x",
                        },
                        {"X-Road-Error": stub.xroad_error},
                    )
                    return
                route = self.path.split("?", 1)[0]
                if not route.startswith("/r1/"):
                    self._send(404, {"code": "not_found"})
                    return
                parts = route[len("/r1/") :].split("/")
                service, path = "/".join(parts[:5]), "/".join(parts[5:])
                status, document = stub.answers.get(
                    (service, path),
                    (404, {"type": "about:blank", "status": 404, "code": "not_found"}),
                )
                self._send(status, document)

            def _send(self, status: int, document: Any, headers: dict | None = None) -> None:
                body = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        if self.tls is not None:
            # Keep-alive, as the real gateway: a connection carries several calls.
            Handler.protocol_version = "HTTP/1.1"
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        if self.tls is not None:
            self.server.socket = self.tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def down(self) -> None:
        """Close the port: calls fail as with a gateway that is not running."""
        self.stop()
        self.mode = "down"

    def up(self) -> None:
        if self.server is None:
            self.start()
        self.mode = "up"

    def calls(self, service: str) -> list[Received]:
        prefix = "/r1/" + service + "/"
        return [item for item in self.received if item.path.startswith(prefix)]


@pytest.fixture
def exchange_down(settings) -> str:  # type: ignore[no-untyped-def]
    """The gateway's port is closed: every call through the exchange is unavailable."""
    settings.EXCHANGE_GATEWAY_URL = f"http://127.0.0.1:{free_port()}"
    settings.EXCHANGE_TIMEOUT = 2
    return str(settings.EXCHANGE_GATEWAY_URL)


@pytest.fixture
def exchange(settings) -> Iterator[ExchangeStub]:  # type: ignore[no-untyped-def]
    stub = ExchangeStub(port=free_port())
    stub.start()
    settings.EXCHANGE_GATEWAY_URL = stub.url
    settings.EXCHANGE_TIMEOUT = 2
    yield stub
    stub.stop()
