"""A real `egov worker` process killed in the middle of sending an email: the task runs again
in another worker and the email arrives once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import free_port

ENQUEUE = """
from egov.identity.models import User
from egov.notifications.services import message_send
from django.db import transaction
with transaction.atomic():
    user = User.objects.create_user("killed@example.org", None, kind="admin", first_name="A",
                                    last_name="B", language="en")
    message_send(recipient=user, template="application_received", context={"number": "X-1"})
"""

STATUS = """
import json
from egov.notifications.models import Delivery
d = Delivery.objects.get()
print(json.dumps([d.status, d.attempts]))
"""


class StallFirstDelivery:
    """An SMTP server that holds the first message until its client goes away (it is never
    acknowledged, so a correct server discards it) and accepts the ones after."""

    def __init__(self) -> None:
        self.first_arrived = threading.Event()
        self.accepted: list[bytes] = []
        self.calls = 0

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.calls += 1
        if self.calls == 1:
            self.first_arrived.set()
            for _ in range(600):
                if server.transport is None or server.transport.is_closing():
                    break
                await asyncio.sleep(0.05)
            return "451 connection lost before the message was accepted"
        self.accepted.append(envelope.content)
        return "250 OK"


@pytest.fixture
def environment():
    data_dir = Path(tempfile.mkdtemp(prefix="egov-worker-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EGOV_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)  # its own SQLite file, shared by the processes
    env.update(
        EGOV_DATA_DIR=str(data_dir),
        SECRET_KEY="worker-test-" + "k" * 40,
        EGOV_BASE_URL="http://127.0.0.1:8000",
        EGOV_EXCHANGE_GATEWAY_URL="https://127.0.0.1:8090",
        EGOV_PKI_KEY_PASSPHRASE="test-pki-key-passphrase",
        EGOV_WORKER_STALE_SECONDS="2",
        EGOV_EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
    )
    subprocess.run([sys.executable, "-m", "egov.cli", "migrate", "-v", "0"], env=env, check=True)
    return env


def _egov(env, *args: str, **kwargs):  # type: ignore[no-untyped-def]
    return subprocess.run(
        [sys.executable, "-m", "egov.cli", *args], env=env, capture_output=True, text=True, **kwargs
    )


def _status(env):  # type: ignore[no-untyped-def]
    output = _egov(env, "shell", "-c", STATUS, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def test_a_killed_worker_loses_nothing_and_the_email_arrives_once(environment):
    handler = StallFirstDelivery()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    environment = {**environment, "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(controller.port)}
    workers = []
    try:
        _egov(environment, "shell", "-c", ENQUEUE, check=True)
        first = subprocess.Popen(
            [sys.executable, "-m", "egov.cli", "worker", "--interval", "0.1"], env=environment
        )
        workers.append(first)
        assert handler.first_arrived.wait(60), "the first worker never tried to send"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        status = _status(environment)
        assert status == ["sending", 1]  # the attempt is recorded, the task is stuck "running"

        second = subprocess.Popen(
            [sys.executable, "-m", "egov.cli", "worker", "--interval", "0.1"], env=environment
        )
        workers.append(second)
        for _ in range(300):
            status = _status(environment)
            if status[0] == "sent":
                break
            time.sleep(0.1)
        assert status == ["sent", 2]
        assert len(handler.accepted) == 1
        assert b"X-1" in handler.accepted[0]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=20)
        controller.stop()
