"""A platform PKI of its own for the documents' tests (the CAs, the TSA, the OCSP responder
and the agencies' document-signing certificates), made once per module.

The certificates' OCSP address (AIA) is a real HTTP server on 127.0.0.1 that answers with the
platform responder's own code, so an outside validator (poppler's pdfsig through NSS) checks
revocation the way it does in production, without any network beyond this machine."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

import pytest

from egov.trust.pki import certificate_issue, pki_init

AGENCIES = ("MVD", "MGI")


class _OcspHandler(BaseHTTPRequestHandler):
    def _answer(self, request_der: bytes) -> None:
        from egov.trust.ocsp import ocsp_response

        body = ocsp_response(request_der)
        self.send_response(200)
        self.send_header("Content-Type", "application/ocsp-response")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self._answer(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

    def do_GET(self) -> None:  # RFC 6960 A.1: the request base64 in the path
        self._answer(base64.b64decode(unquote(self.path.rsplit("/", 1)[-1])))

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def ocsp_base_url() -> Iterator[str]:
    """The origin of an OCSP responder serving ``settings.PKI_DIR``'s index."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OcspHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def pki_make(directory: Path, base_url: str = "http://127.0.0.1:8000") -> Path:
    pki_init(directory=directory, instance="XX")
    issued = [
        ("ocsp", "ocsp-responder", "egov ocsp", "egov"),
        ("tsa", "tsa", "egov tsa", "egov"),
        ("ledger", "ledger-signing", "egov ledger", "egov"),
    ]
    issued += [
        (f"agency-{code.lower()}-documents", "document-signing", f"{code} documents", code)
        for code in AGENCIES
    ]
    for name, profile, common_name, organization in issued:
        certificate_issue(
            directory=directory,
            profile=profile,
            common_name=common_name,
            organization=organization,
            name=name,
            base_url=base_url,
        )
    return directory


@pytest.fixture(scope="module")
def module_pki(tmp_path_factory: pytest.TempPathFactory, ocsp_base_url: str) -> Path:
    return pki_make(tmp_path_factory.mktemp("documents") / "pki", ocsp_base_url)


@pytest.fixture
def pki(module_pki: Path, settings) -> Path:  # type: ignore[no-untyped-def]
    settings.PKI_DIR = module_pki
    settings.PKI_PKCS11_KEYS = []
    return module_pki
