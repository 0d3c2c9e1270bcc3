"""Shared parts of the benchmarks: starting servers, running wrk, printing a table."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < 500:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


@dataclass
class Result:
    name: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def _milliseconds(text: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    if match is None:
        raise ValueError(f"cannot read a latency from {text!r}")
    value, unit = match.groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(
    name: str,
    url: str,
    *,
    connections: int = 16,
    seconds: int = 10,
    headers: tuple[str, ...] = (),
    script: Path | None = None,
    warm_up: bool = True,
) -> Result:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    extra = [part for header in headers for part in ("-H", header)]
    if script is not None:
        extra += ["-s", str(script)]
    if warm_up:
        subprocess.run(
            ["wrk", f"-t{min(2, connections)}", "-c", str(connections), "-d2s", *extra, url],
            capture_output=True,
        )
    output = subprocess.run(
        [
            "wrk",
            f"-t{min(2, connections)}",
            "-c",
            str(connections),
            f"-d{seconds}s",
            "--latency",
            *extra,
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Latency Distribution" not in output:
        raise RuntimeError(f"wrk gave no latency figures for {url}:\n{output}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _milliseconds(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    p99 = _milliseconds(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    errors_match = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    errors = int(errors_match.group(1)) if errors_match else 0
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return Result(name, rate, p50, p99, errors)


def table(results: list[Result], reference: Result) -> str:
    lines = [
        f"{'page':<28} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'x hello':>8}",
    ]
    for result in results:
        lines.append(
            f"{result.name:<28} {result.requests_per_second:>9.1f} {result.p50_ms:>8.2f} "
            f"{result.p99_ms:>8.2f} {result.errors:>7d} "
            f"{result.requests_per_second / reference.requests_per_second:>8.2f}"
        )
    return "\n".join(lines)


def base_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EGOV_", "DJANGO_"))}
    env.update(
        EGOV_DATA_DIR=str(data_dir),
        EGOV_INSECURE_HTTP="true",
        SECRET_KEY="bench-" + "x" * 40,
        EGOV_BASE_URL="http://127.0.0.1:8000",
        EGOV_EXCHANGE_GATEWAY_URL="https://127.0.0.1:8090",
        EGOV_PKI_KEY_PASSPHRASE="bench-" + "pki" * 8,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        PYTHONPATH=str(ROOT),
    )
    return env


def _post_chunk(port: int, path: str, content_type: str, bodies: list[bytes], failures) -> None:  # type: ignore[no-untyped-def]
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    failed = 0
    for body in bodies:
        connection.request("POST", path, body=body, headers={"Content-Type": content_type})
        answer = connection.getresponse()
        if answer.status != 200 or not answer.read():
            failed += 1
    connection.close()
    with failures.get_lock():
        failures.value += failed


def post_rate(
    port: int, path: str, bodies: list[bytes], *, content_type: str, connections: int = 8
) -> tuple[float, int]:
    """Responses per second to ``bodies`` POSTed to ``path`` over ``connections`` keep-alive
    connections, each from a process of its own (a client in threads would be the
    bottleneck), and how many failed (not 200, or empty)."""
    import multiprocessing

    fork = multiprocessing.get_context("fork")
    failures = fork.Value("i", 0)
    chunks = [bodies[index::connections] for index in range(connections)]
    clients = [
        fork.Process(target=_post_chunk, args=(port, path, content_type, chunk, failures))
        for chunk in chunks
    ]
    started = time.perf_counter()
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    seconds = time.perf_counter() - started
    return (len(bodies) / seconds if seconds else 0.0), int(failures.value)


@contextlib.contextmanager
def served(env: Mapping[str, str], *arguments: str) -> Iterator[int]:
    """``egov serve`` on a free port of 127.0.0.1 with ``env``, until the block ends; its
    log goes to a file (a pipe nobody reads would stop it once full)."""
    port = free_port()
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            [PYTHON, "-m", "egov.cli", "serve", "--bind", f"127.0.0.1:{port}", *arguments],
            env=dict(env),
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            try:
                wait_until_up(f"http://127.0.0.1:{port}/healthz")
            except RuntimeError:
                log.seek(0)
                tail = log.read()[-2000:].decode(errors="replace")
                raise RuntimeError(f"egov serve did not start: {tail}") from None
            yield port
        finally:
            server.terminate()
            server.wait(timeout=30)


def demo_env(data_dir: Path) -> dict[str, str]:
    """:func:`base_env` for a benchmark in demo mode: settings module set, warnings only in
    the log, static files from the source tree (nothing to collect)."""
    env = base_env(data_dir)
    env.update(
        EGOV_DEMO="true",
        DJANGO_SETTINGS_MODULE="egov.settings",
        EGOV_LOG_LEVEL="WARNING",
        ALLOWED_HOSTS="testserver,127.0.0.1,localhost",
        EGOV_STATIC_FROM_SOURCE="true",
        EGOV_STATICFILES_STORAGE="django.contrib.staticfiles.storage.StaticFilesStorage",
    )
    return env
