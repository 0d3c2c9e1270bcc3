"""Benchmark: RFC 3161 timestamp responses per second, in process (``timestamp_respond``, as
document signing calls it) and over HTTP (``POST /trust/tsa`` through ``egov serve``), beside
the raw cost of one ECDSA P-256 signature with ``cryptography`` in the same run.

    .venv/bin/python bench/trust_tsa.py [--quick]

Target (issue 11): 1,000 responses/s.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import base_env, post_rate, served


def _queries(count: int) -> list[bytes]:
    from egov.trust.tsa import nonce_new, timestamp_query

    return [
        timestamp_query(hashlib.sha256(str(n).encode()).digest(), nonce=nonce_new())
        for n in range(count)
    ]


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds else 0.0


def _http(port: int, queries: list[bytes], connections: int) -> tuple[float, int]:
    """Responses per second over keep-alive connections, and the failures."""
    return post_rate(
        port,
        "/trust/tsa",
        queries,
        content_type="application/timestamp-query",
        connections=connections,
    )


def run(quick: bool = False) -> list[dict]:
    """The figures, one dict per measurement: ``name``, ``per_second`` and, for the TSA,
    ``x_ecdsa`` (its rate as a fraction of the raw signature's)."""
    data_dir = Path(tempfile.mkdtemp(prefix="egov-bench-tsa-"))
    env = {
        **base_env(data_dir),
        "EGOV_DEMO": "true",
        # No pages are served: the static files need not be collected.
        "EGOV_STATIC_FROM_SOURCE": "true",
        "EGOV_STATICFILES_STORAGE": "django.contrib.staticfiles.storage.StaticFilesStorage",
    }
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "egov.settings")
    import django

    django.setup()
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from django.conf import settings
    from django.core.management import call_command

    from egov.trust.pki import certificate_issue, pki_init
    from egov.trust.tsa import timestamp_respond

    call_command("migrate", verbosity=0)
    pki_init(directory=settings.PKI_DIR)
    certificate_issue(directory=settings.PKI_DIR, profile="tsa", common_name="egov TSA", name="tsa")
    count = 300 if quick else 3000

    key = ec.generate_private_key(ec.SECP256R1())
    started = time.perf_counter()
    for n in range(count):
        key.sign(b"%d" % n, ec.ECDSA(hashes.SHA256()))
    ecdsa = _rate(count, time.perf_counter() - started)

    queries = _queries(count)
    timestamp_respond(queries[0])  # the key loaded, the first block of serials taken
    started = time.perf_counter()
    for query in queries:
        timestamp_respond(query)
    in_process = _rate(count, time.perf_counter() - started)

    with served(os.environ) as port:
        _http(port, queries[:40], 4)  # warm up every worker
        over_http, failures = _http(port, queries, 8)
    return [
        {"name": "ECDSA P-256 signature (cryptography)", "per_second": round(ecdsa, 1)},
        {
            "name": "TSA response, in process",
            "per_second": round(in_process, 1),
            "x_ecdsa": round(in_process / ecdsa, 3),
        },
        {
            "name": "TSA response, POST /trust/tsa (8 connections)",
            "per_second": round(over_http, 1),
            "x_ecdsa": round(over_http / ecdsa, 3),
            "failures": failures,
        },
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer requests")
    arguments = parser.parse_args()
    results = run(quick=arguments.quick)
    print(f"\n{'measurement':<48} {'per s':>10} {'x ECDSA':>8}")
    for result in results:
        ratio = f"{result['x_ecdsa']:.3f}" if "x_ecdsa" in result else ""
        print(f"{result['name']:<48} {result['per_second']:>10.1f} {ratio:>8}")
        if result.get("failures"):
            print(f"  {result['failures']} failed responses")


if __name__ == "__main__":
    main()
