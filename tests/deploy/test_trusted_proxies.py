"""The production server (gunicorn with `egov serve`'s options) believes forwarded headers only
from EGOV_TRUSTED_PROXIES: a client that reaches it past the proxy, from another address,
gets neither the HTTPS scheme from gunicorn nor HSTS from Django.

The trusted proxy is 127.0.0.1; the client past it connects from 127.0.0.2 (any 127.0.0.0/8
address is this host's loopback on Linux)."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
PROXY, PAST_THE_PROXY = "127.0.0.1", "127.0.0.2"


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    folder = tmp_path_factory.mktemp("trusted-proxies")
    port = free_port()
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("EGOV_") and name not in ("DATABASE_URL",)
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="egov.settings",
        EGOV_DATA_DIR=str(folder / "var"),
        SECRET_KEY="trusted-proxies-" + "x" * 40,
        ALLOWED_HOSTS="egov.example",
        EGOV_BASE_URL="https://egov.example",
        EGOV_EXCHANGE_GATEWAY_URL="https://127.0.0.1:8090",
        EGOV_PKI_KEY_PASSPHRASE="test-pki-key-passphrase",
        EGOV_TRUSTED_PROXIES=f"{PROXY}/32",
        EGOV_PROBE_REQUEST_LOG=str(folder / "requests.txt"),
        EGOV_STATICFILES_STORAGE="django.contrib.staticfiles.storage.StaticFilesStorage",
    )
    log = folder / "gunicorn.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.deploy.probe_app", "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "gunicorn never listened"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=15)


def get(port: int, path: str, source: str) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=10, source_address=(source, 0)
    )
    connection.request("GET", path, headers={"Host": "egov.example", "X-Forwarded-Proto": "https"})
    answer = connection.getresponse()
    answer.body = answer.read()  # type: ignore[attr-defined]
    connection.close()
    return answer


def test_the_scheme_header_counts_in_gunicorn_only_from_the_proxy(upstream):
    trusted = json.loads(get(upstream, "/__probe/headers", PROXY).body)  # type: ignore[attr-defined]
    direct = json.loads(get(upstream, "/__probe/headers", PAST_THE_PROXY).body)  # type: ignore[attr-defined]

    assert trusted["wsgi.url_scheme"] == "https"
    assert direct["wsgi.url_scheme"] == "http"


def test_hsts_and_no_redirect_only_through_the_proxy(upstream):
    trusted_health = get(upstream, "/healthz", PROXY)
    direct_health = get(upstream, "/healthz", PAST_THE_PROXY)
    direct_page = get(upstream, "/en/", PAST_THE_PROXY)

    assert trusted_health.status == 200
    assert trusted_health.getheader("Strict-Transport-Security", "").startswith("max-age=")
    assert direct_health.status == 200
    assert direct_health.getheader("Strict-Transport-Security") is None
    assert direct_page.status == 301
    assert direct_page.getheader("Location") == "https://egov.example/en/"
