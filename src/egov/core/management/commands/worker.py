"""``egov worker``: run background tasks (notifications, automatic workflow steps, ...)."""

from __future__ import annotations

import secrets
import socket
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from egov.core.worker import HeartbeatWorker, sweeps_run, tasks_run_pending

#: Room for the random part in the heartbeat's worker id (64 characters).
WORKER_NAME_LENGTH = 48


class Command(BaseCommand):
    help = "Run background tasks until stopped. Start as many as needed, on any machines."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch", action="store_true", help="Run what is queued now, then exit."
        )
        parser.add_argument(
            "--interval", type=float, default=0.5, help="Seconds between polls when idle."
        )
        parser.add_argument(
            "--name",
            default=None,
            help="Name of this worker (its unit, e.g. `host-worker1`); the worker's id is the "
            "name and a random part, new at each start, so a restarted worker never passes "
            "for its dead predecessor. `egov health worker --name` asks for it. Default: the "
            "host name.",
        )

    def handle(
        self, *args: Any, batch: bool, interval: float, name: str | None, **options: Any
    ) -> None:
        if batch:
            sweeps_run()
            count = tasks_run_pending()
            self.stdout.write(f"ran {count} task(s)")
            return
        name = (name or socket.gethostname())[:WORKER_NAME_LENGTH]
        worker_id = f"{name}-{secrets.token_hex(4)}"
        worker = HeartbeatWorker(
            queue_names=["*"],
            interval=interval,
            batch=False,
            backend_name="default",
            startup_delay=True,
            max_tasks=None,
            worker_id=worker_id,
            excluded_queue_names=[],
        )
        self.stdout.write(f"worker {worker_id} started")
        worker.configure_signals()
        worker.run()
