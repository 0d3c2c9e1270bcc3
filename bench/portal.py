"""Benchmark: the anonymous catalogue page, a service page and a search (as served, with the
anonymous page cache, and again with the cache off), against a bare
Django "hello" view served with the same gunicorn settings, in one run.

    .venv/bin/python bench/portal.py [--seconds 10] [--connections 16]

Targets (issue 2): catalogue page at least 0.30x of hello; p99 under 100 ms at 16 connections.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PYTHON, base_env, free_port, table, wait_until_up, wrk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=0)
    arguments = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="egov-bench-"))
    env = base_env(data_dir)
    egov = [PYTHON, "-m", "egov.cli"]
    print("preparing a fresh demo database ...", flush=True)
    subprocess.run([*egov, "demo", "--no-serve", "-v", "0"], env=env, check=True)

    portal_port, hello_port, uncached_port = free_port(), free_port(), free_port()
    workers = ["--workers", str(arguments.workers)]
    servers = [
        subprocess.Popen([*egov, "serve", "--bind", f"127.0.0.1:{portal_port}", *workers], env=env),
        # the same platform with the page cache off: what rendering a page costs
        subprocess.Popen(
            [*egov, "serve", "--bind", f"127.0.0.1:{uncached_port}", *workers],
            env={**env, "EGOV_PAGE_CACHE_SECONDS": "0"},
        ),
        subprocess.Popen(
            [PYTHON, "-m", "bench.hello_app", "--bind", f"127.0.0.1:{hello_port}", *workers],
            env=env,
        ),
    ]
    try:
        portal = f"http://127.0.0.1:{portal_port}"
        wait_until_up(f"{portal}/healthz")
        wait_until_up(f"http://127.0.0.1:{hello_port}/hello")
        uncached = f"http://127.0.0.1:{uncached_port}"
        wait_until_up(f"{uncached}/healthz")
        service = (
            subprocess.run(
                [
                    *egov,
                    "shell",
                    "-c",
                    "from egov.catalog.models import Service; "
                    "print(Service.objects.filter(is_published=True).order_by('-popularity')[0].code)",
                ],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        run = {"seconds": arguments.seconds, "connections": arguments.connections}
        hello = wrk("bare Django hello", f"http://127.0.0.1:{hello_port}/hello", **run)
        results = [
            hello,
            wrk("catalogue /en/services/", f"{portal}/en/services/", **run),
            wrk("service page", f"{portal}/en/services/{service}/", **run),
            wrk("search ?q=passport", f"{portal}/en/search/?q=passport", **run),
            wrk("start page /be/", f"{portal}/be/", **run),
            wrk("catalogue, page cache off", f"{uncached}/en/services/", **run),
            wrk("service page, cache off", f"{uncached}/en/services/{service}/", **run),
        ]
        print(
            f"\n{arguments.connections} connections, {arguments.seconds} s each, "
            f"same gunicorn settings for both servers\n"
        )
        print(table(results, hello))
        catalogue = results[1]
        ratio = catalogue.requests_per_second / hello.requests_per_second
        print(
            f"\ncatalogue/hello = {ratio:.2f} (target >= 0.30); "
            f"catalogue p99 = {catalogue.p99_ms:.1f} ms (target < 100 ms)"
        )
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=20)


if __name__ == "__main__":
    main()
