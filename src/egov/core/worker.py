"""The background worker (``egov worker``): django-tasks' database worker, plus what a national
service needs from it — a task whose worker died is run again, and periodic sweeps run.

The queue delivers at least once, so every task is idempotent (see each app's ``tasks.py``).
A worker writes a heartbeat every few seconds; a task still marked running by a worker whose
heartbeat is older than ``EGOV_WORKER_STALE_SECONDS`` goes back to the queue.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import structlog
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models.functions import Now
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from egov.core.models import WorkerHeartbeat
from egov.core.plugins import Registry

logger = structlog.get_logger(__name__)

#: Sweeps run every ``SWEEP_SECONDS`` by one of the workers, e.g. re-queueing deliveries
#: whose task was lost. Apps register them (``@periodic.register("name")``).
periodic: Registry[Callable[[], int]] = Registry("periodic job")
HEARTBEAT_SECONDS = 5.0
SWEEP_SECONDS = 30.0


def _periods() -> tuple[float, float]:
    """Heartbeat and sweep periods: often enough to notice a dead worker within the stale
    time, never busier than twice a second."""
    stale = float(settings.WORKER_STALE_SECONDS)
    heartbeat = max(0.5, min(HEARTBEAT_SECONDS, stale / 3))
    return heartbeat, max(heartbeat, min(SWEEP_SECONDS, stale))


def tasks_recover(*, stale_seconds: int | None = None) -> int:
    """Put back tasks that a dead worker left "running"; returns how many."""
    stale = timedelta(seconds=stale_seconds or settings.WORKER_STALE_SECONDS)
    cutoff = timezone.now() - stale
    # Heartbeats are stamped and judged by the database's clock, so machines whose clocks
    # disagree do not take each other for dead.
    alive = set(
        WorkerHeartbeat.objects.filter(seen_at__gte=Now() - stale).values_list(
            "worker_id", flat=True
        )
    )
    recovered = 0
    with transaction.atomic():
        running = DBTaskResult.objects.select_for_update().filter(
            status=TaskResultStatus.RUNNING, started_at__lt=cutoff
        )
        for result in running:
            owner = result.worker_ids[-1] if result.worker_ids else ""
            if owner in alive:
                continue
            result.status = TaskResultStatus.READY
            result.started_at = None
            result.save(update_fields=["status", "started_at"])
            logger.warning("task %s of dead worker %s goes back to the queue", result.id, owner)
            recovered += 1
    return recovered


def sweeps_run() -> dict[str, int]:
    counts = {"recovered": tasks_recover()}
    for name in periodic:
        try:
            counts[name] = periodic[name]()
        except Exception:  # a failing sweep must not stop the worker; it runs again later
            logger.exception("periodic job %s failed", name)
    return counts


def _beat(worker_id: str) -> None:
    fields: dict[str, Any] = {"host": socket.gethostname()[:255], "pid": os.getpid()}
    updated = WorkerHeartbeat.objects.filter(worker_id=worker_id).update(seen_at=Now(), **fields)
    if not updated:
        WorkerHeartbeat.objects.create(
            worker_id=worker_id, started_at=Now(), seen_at=Now(), **fields
        )


@contextmanager
def task_run_logged(result: DBTaskResult) -> Iterator[None]:
    """One line per task run, when it ends: ``task_finished`` (task, task id, status,
    duration_ms) or ``task_failed`` with the exception's class; lines logged while the task
    runs carry its ``task_id``. The traceback stays in the task's result, not in the log."""
    started = time.monotonic()
    with structlog.contextvars.bound_contextvars(task_id=str(result.id)):
        try:
            yield
        finally:
            fields = {
                "task": result.task_path,
                "status": str(result.status),
                "duration_ms": int((time.monotonic() - started) * 1000),
            }
            if result.status == TaskResultStatus.FAILED:
                logger.error(
                    "task_failed", exception=result.exception_class_path or "unknown", **fields
                )
            else:
                logger.info("task_finished", **fields)


def tasks_run_pending(*, limit: int = 1000) -> int:
    """Run ready tasks in this process until none is left (``egov worker --batch`` and tests).

    It beats like any worker, so no other worker takes its running task for a dead one's."""
    worker_id = f"batch-{socket.gethostname()[:30]}-{os.getpid()}-{secrets.token_hex(3)}"
    count = 0
    try:
        while count < limit:
            _beat(worker_id)
            with transaction.atomic():
                result = DBTaskResult.objects.ready().get_locked()
                if result is None:
                    break
                result.claim(worker_id)
            with task_run_logged(result):
                try:
                    value = result.task.call(*result.task_result.args, **result.task_result.kwargs)
                    result.set_successful(value)
                except Exception as error:
                    result.set_failed(error)
            count += 1
    finally:
        WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()
    return count


class HeartbeatWorker(Worker):
    """django-tasks' worker with a heartbeat thread that also runs the sweeps."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._stop = threading.Event()

    def _beat(self) -> None:
        _beat(self.worker_id)

    def run_task(self, db_task_result: DBTaskResult) -> None:
        with task_run_logged(db_task_result):
            super().run_task(db_task_result)

    def _heartbeat_loop(self) -> None:
        heartbeat, sweep = _periods()
        next_sweep = 0.0
        elapsed = 0.0
        while not self._stop.wait(heartbeat if elapsed else 0):
            try:
                close_old_connections()
                self._beat()
                if elapsed >= next_sweep:
                    sweeps_run()
                    next_sweep = elapsed + sweep
            except Exception:
                logger.exception("worker heartbeat failed; trying again")
            elapsed += heartbeat
        connection.close()

    def run(self) -> None:
        self._beat()
        thread = threading.Thread(target=self._heartbeat_loop, name="heartbeat", daemon=True)
        thread.start()
        try:
            super().run()
        finally:
            self._stop.set()
            WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()
