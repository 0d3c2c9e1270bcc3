"""Behind the shipped nginx (one trusted proxy, EGOV_PROXY_COUNT=1), login throttling counts
the client's address that nginx puts in X-Forwarded-For, not nginx's own address."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
import django
django.setup()
from axes.helpers import get_client_ip_address
from django.test import RequestFactory
factory = RequestFactory()
answers = []
for forwarded in json.loads(sys.argv[1]):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    answers.append(get_client_ip_address(factory.get("/", REMOTE_ADDR="127.0.0.1", **extra)))
print(json.dumps(answers))
"""


def throttled_addresses(proxy_count: str, forwarded: list[str | None]) -> list[str | None]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("EGOV_") and name not in ("DATABASE_URL",)
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="egov.settings",
        EGOV_PROXY_COUNT=proxy_count,
        SECRET_KEY="forwarded-" + "x" * 40,
        EGOV_DATA_DIR=os.environ["EGOV_DATA_DIR"],
    )
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(forwarded)],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    ("proxy_count", "forwarded", "expected"),
    [
        # nginx in front: the one address nginx set is the client's.
        ("1", ["203.0.113.5", None], ["203.0.113.5", "127.0.0.1"]),
        # a load balancer that appends, then nginx: the client before the balancer's address.
        ("2", ["203.0.113.5, 198.51.100.7"], ["203.0.113.5"]),
        # no proxy: a client's own X-Forwarded-For is never believed.
        ("0", ["203.0.113.5"], ["127.0.0.1"]),
    ],
)
def test_login_throttling_takes_the_address_the_proxies_forwarded(proxy_count, forwarded, expected):
    assert throttled_addresses(proxy_count, forwarded) == expected
