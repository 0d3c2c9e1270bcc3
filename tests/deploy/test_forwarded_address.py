"""Behind the shipped nginx (one trusted proxy, EGOV_PROXY_COUNT=1 and
EGOV_TRUSTED_PROXIES=127.0.0.1), login throttling counts the client's address that nginx puts
in X-Forwarded-For, not nginx's own address; a client that reaches the web server directly
cannot choose the address it is counted by."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Each request goes through the middleware that comes first in every web process.
PROBE = """
import json, sys
import django
django.setup()
from axes.helpers import get_client_ip_address
from django.test import RequestFactory
from egov.core.proxies import TrustedProxyMiddleware
factory = RequestFactory()
answers = []
for remote, forwarded in json.loads(sys.argv[1]):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    request = factory.get("/", REMOTE_ADDR=remote, **extra)
    answers.append(TrustedProxyMiddleware(get_client_ip_address)(request))
print(json.dumps(answers))
"""


def throttled_addresses(
    proxy_count: str, requests: list[tuple[str, str | None]], trusted: str = "127.0.0.1"
) -> list[str | None]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("EGOV_") and name not in ("DATABASE_URL",)
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="egov.settings",
        EGOV_PROXY_COUNT=proxy_count,
        EGOV_TRUSTED_PROXIES=trusted,
        SECRET_KEY="forwarded-" + "x" * 40,
        EGOV_BASE_URL="https://egov.example",
        EGOV_EXCHANGE_GATEWAY_URL="https://127.0.0.1:8090",
        EGOV_PKI_KEY_PASSPHRASE="test-pki-key-passphrase",
        EGOV_DATA_DIR=os.environ["EGOV_DATA_DIR"],
    )
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(requests)],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


NGINX = "127.0.0.1"


@pytest.mark.parametrize(
    ("proxy_count", "requests", "expected"),
    [
        # nginx in front: the one address nginx set is the client's.
        ("1", [(NGINX, "203.0.113.5"), (NGINX, None)], ["203.0.113.5", NGINX]),
        # a load balancer that appends, then nginx: the client before the balancer's address.
        ("2", [(NGINX, "203.0.113.5, 198.51.100.7")], ["203.0.113.5"]),
        # a client's own X-Forwarded-For before what appending proxies wrote: the client the
        # proxies named, never the proxy's address that everybody shares.
        ("1", [(NGINX, "6.6.6.6, 203.0.113.5")], ["203.0.113.5"]),
        ("2", [(NGINX, "6.6.6.6, 203.0.113.5, 198.51.100.7")], ["203.0.113.5"]),
        # no proxy: a client's own X-Forwarded-For is never believed.
        ("0", [(NGINX, "203.0.113.5")], [NGINX]),
        # a client that reaches gunicorn directly, past nginx, is counted by its own address.
        ("1", [("192.0.2.44", "203.0.113.5")], ["192.0.2.44"]),
    ],
)
def test_login_throttling_takes_the_address_the_proxies_forwarded(proxy_count, requests, expected):
    assert throttled_addresses(proxy_count, requests) == expected


def test_without_trusted_proxies_the_proxy_count_believes_no_one():
    assert throttled_addresses("1", [(NGINX, "203.0.113.5")], trusted="") == [NGINX]
