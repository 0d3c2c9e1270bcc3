"""Two ``egov gateway run`` processes on loopback talk over mutual TLS, as in production."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import urllib3

from egov.exchange.gateway.messagelog import log_files, verify_log
from tests.exchange.harness import PORTAL, Stack, free_port


def wait_for(url: str, seconds: float = 60.0, process: subprocess.Popen[str] | None = None) -> None:
    """Until ``url`` answers 200; a ``process`` that ends meanwhile fails at once with what it
    wrote to its error output (a port another program took, a bad configuration)."""
    http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(1))
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            errors = process.stderr.read() if process.stderr else ""
            raise AssertionError(f"{url}: the process ended ({process.returncode}): {errors}")
        try:
            if http.request("GET", url).status == 200:
                return
        except urllib3.exceptions.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not come up")


def test_two_gateway_processes_carry_a_call_and_seal_their_logs(tmp_path: Path) -> None:
    stack = Stack(tmp_path).start(gateways=False)
    names = ("a-client", "a-client-tls", "a-server", "b-client", "b-client-tls", "b-server")
    ports = {name: free_port() for name in names}
    stack.ports.update(ports)
    configs = {
        code: stack.write_settings(
            code, ports[f"{side}-client"], ports[f"{side}-server"], ports[f"{side}-client-tls"]
        )
        for code, side in (("GW-A", "a"), ("GW-B", "b"))
    }
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "egov.cli", "gateway", "run", code, "--config", str(path)],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for code, path in configs.items()
    ]
    try:
        wait_for(f"http://127.0.0.1:{ports['a-client']}/listClients", process=processes[0])
        wait_for(f"http://127.0.0.1:{ports['b-client']}/listClients", process=processes[1])
        response = stack.call(
            "/r1/BY/GOV/MVD/population/person/4150592M012PB5",
            headers={
                "X-Road-UserId": "BY4150592M012PB5",
                "X-Egov-Purpose": "check",
                "X-Road-Issue": "MVD-2026-000001",
            },
        )
        assert response.status == 200
        assert response.headers["X-Road-Client"] == PORTAL
        received = json.loads(response.data)["received"]
        assert received["path"] == "/registries/population/v1/persons/4150592M012PB5"
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        codes = [process.wait(timeout=20) for process in processes]
        stack.stop()
    assert codes == [0, 0]
    for code in configs:
        files = log_files(tmp_path / code / "messagelog")
        assert len(files) == 1
        result = verify_log(files[0])
        assert result.problems == []
        assert result.messages == 2
        assert result.unsealed_tail == 0
