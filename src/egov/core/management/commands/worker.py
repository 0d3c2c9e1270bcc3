"""``egov worker``: run background tasks (notifications, automatic workflow steps, ...)."""

from __future__ import annotations

import secrets
import socket
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from egov.core.worker import HeartbeatWorker, sweeps_run, tasks_run_pending


class Command(BaseCommand):
    help = "Run background tasks until stopped. Start as many as needed, on any machines."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch", action="store_true", help="Run what is queued now, then exit."
        )
        parser.add_argument(
            "--interval", type=float, default=0.5, help="Seconds between polls when idle."
        )

    def handle(self, *args: Any, batch: bool, interval: float, **options: Any) -> None:
        if batch:
            sweeps_run()
            count = tasks_run_pending()
            self.stdout.write(f"ran {count} task(s)")
            return
        worker_id = f"{socket.gethostname()[:40]}-{secrets.token_hex(4)}"
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
