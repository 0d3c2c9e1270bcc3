"""Benchmark: RFC 3161 timestamp responses per second, in process (``timestamp_respond``, as
document signing calls it) and over HTTP (``POST /trust/tsa`` through ``egov serve``), beside
the raw cost of one ECDSA P-256 signature with ``cryptography`` in the same run.

    .venv/bin/python bench/trust_tsa.py [--quick]

Target (issue 11): 1,000 responses/s.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PYTHON, base_env, free_port, wait_until_up


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
    failures = [0]
    chunks = [queries[index::connections] for index in range(connections)]

    def worker(chunk: list[bytes]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for query in chunk:
            connection.request(
                "POST",
                "/trust/tsa",
                body=query,
                headers={"Content-Type": "application/timestamp-query"},
            )
            answer = connection.getresponse()
            body = answer.read()
            if answer.status != 200 or body[:2] == b"":
                failures[0] += 1
        connection.close()

    threads = [threading.Thread(target=worker, args=(chunk,)) for chunk in chunks]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return _rate(len(queries), time.perf_counter() - started), failures[0]


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

    port = free_port()
    server = subprocess.Popen(
        [PYTHON, "-m", "egov.cli", "serve", "--bind", f"127.0.0.1:{port}"],
        env={**os.environ},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        try:
            wait_until_up(f"http://127.0.0.1:{port}/healthz")
        except RuntimeError:
            server.terminate()
            raise RuntimeError(
                f"egov serve did not start: {server.communicate()[1][-2000:]}"
            ) from None
        _http(port, queries[:20], 2)  # warm up every worker
        over_http, failures = _http(port, queries, 8)
    finally:
        server.terminate()
        server.wait(timeout=30)
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
