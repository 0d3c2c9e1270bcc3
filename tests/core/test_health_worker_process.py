"""`egov health worker` against a real `egov worker` process: 1 before it starts, 0 while it
beats (for any worker, for its own id and for its name), 1 again once it has stopped."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest


@pytest.fixture
def environment():  # type: ignore[no-untyped-def]
    data_dir = Path(tempfile.mkdtemp(prefix="egov-health-worker-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EGOV_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)  # its own SQLite file, shared by the processes
    env.update(
        EGOV_DEMO="true",
        EGOV_DATA_DIR=str(data_dir),
        SECRET_KEY="health-worker-test-" + "k" * 40,
        EGOV_WORKER_STALE_SECONDS="3",
    )
    subprocess.run([sys.executable, "-m", "egov.cli", "migrate", "-v", "0"], env=env, check=True)
    return env


def _health(env, *args: str) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
    done = subprocess.run(
        [sys.executable, "-m", "egov.cli", "health", "worker", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode, json.loads(done.stdout.strip().splitlines()[-1])


def test_health_worker_follows_a_real_worker(environment, tmp_path):
    code, answer = _health(environment)
    assert (code, answer["ok"], answer["workers_alive"]) == (1, False, 0)
    assert answer["max_age_seconds"] == 3.0

    output = tmp_path / "worker.out"
    with output.open("w") as stream:
        worker = subprocess.Popen(
            [sys.executable, "-m", "egov.cli", "worker", "--interval", "0.1", "--name", "host-w1"],
            env=environment,
            stdout=stream,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        worker_id = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not worker_id:
            started = re.search(r"worker (\S+) started", output.read_text())
            worker_id = started.group(1) if started else ""
            time.sleep(0.1)
        assert worker_id, output.read_text()
        assert re.fullmatch(r"host-w1-[0-9a-f]{8}", worker_id), worker_id
        while time.monotonic() < deadline:
            code, answer = _health(environment)
            if code == 0:
                break
            time.sleep(0.2)
        assert (code, answer["ok"], answer["workers_alive"]) == (0, True, 1)
        assert 0 <= answer["newest_heartbeat_age_seconds"] < 3

        code, answer = _health(environment, "--worker-id", worker_id)
        assert (code, answer["worker_id"], answer["workers_alive"]) == (0, worker_id, 1)
        code, answer = _health(environment, "--worker-id", "another-worker")
        assert (code, answer["workers_alive"]) == (1, 0)
        # By the name it was started with (a unit's), whatever its random part.
        code, answer = _health(environment, "--name", "host-w1")
        assert (code, answer["name"], answer["workers_alive"]) == (0, "host-w1", 1)
        code, answer = _health(environment, "--name", "host-w")  # a name, not a prefix
        assert (code, answer["workers_alive"]) == (1, 0)

        # Heartbeats go on: still fresh after more than the stale time.
        time.sleep(4)
        assert _health(environment, "--worker-id", worker_id)[0] == 0
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    code, answer = _health(environment, "--worker-id", worker_id)
    assert (code, answer["workers_alive"], answer["newest_heartbeat_age_seconds"]) == (1, 0, None)


def test_health_worker_without_a_database_fails_and_says_so(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EGOV_", "DJANGO_"))}
    env.update(
        EGOV_DEMO="true",
        EGOV_DATA_DIR=str(tmp_path),
        SECRET_KEY="health-worker-test-" + "k" * 40,
        DATABASE_URL=f"sqlite:///{tmp_path}/missing/egov.sqlite3",
    )
    code, answer = _health(env)
    assert code == 1
    assert answer["ok"] is False
    assert answer["reason"] == "OperationalError"
