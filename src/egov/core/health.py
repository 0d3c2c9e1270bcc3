"""Liveness and readiness of egov's processes (ADR 0009, docs/health-checks.md).

Liveness (``/healthz``) says the process answers at all and touches nothing else, so a
database outage never makes a supervisor restart healthy web servers. Readiness (``/readyz``)
says whether the process can do its work now: each check answers ``{"ok": bool, ...}`` and the
process is ready when every check is ok. The answers carry no personal data and no error text
(which may name hosts or accounts): a failed check gives a short reason, the details go to
the log.

The worker has no listener: ``egov health worker`` reads the heartbeats workers write
(:mod:`egov.core.worker`), judged by the database's clock as the worker judges them.
"""

from __future__ import annotations

import contextlib
import copy
import json
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import structlog
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Count, DurationField, ExpressionWrapper, Max, Q
from django.db.models.functions import Now

from egov.core.models import WorkerHeartbeat

logger = structlog.get_logger(__name__)

Check = dict[str, Any]

#: The whole database check (connecting included) must answer within this time.
DATABASE_TIMEOUT_SECONDS = 3.0
#: Migrations change only on a deployment: a positive answer is trusted this long, since
#: building the migration graph costs tens of milliseconds on every probe otherwise.
MIGRATIONS_CACHE_SECONDS = 300.0

#: The checks each web process runs, in order (``egov.urls`` and ``egov.registries.urls``).
PORTAL_CHECKS = ("database", "migrations", "cache", "static_files", "workers")
REGISTRIES_CHECKS = ("database", "migrations")


# --- database ---------------------------------------------------------------------------------

_database_busy = threading.Lock()


def database_check(*, timeout: float = DATABASE_TIMEOUT_SECONDS) -> Check:
    """``SELECT 1`` on a connection of its own, in a thread given ``timeout`` seconds in all.

    A database that hangs (a lost network, a full connection pool) fails the check in time
    instead of holding a web server's thread until TCP gives up. While an earlier check is
    still waiting, the next one fails at once, so probes of a hung database never pile up."""
    if not _database_busy.acquire(blocking=False):
        return {"ok": False, "reason": "an earlier check is still waiting for the database"}
    outcome: Check = {}
    done = threading.Event()

    def run() -> None:
        started = time.monotonic()
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
            outcome.update(ok=True, duration_ms=round((time.monotonic() - started) * 1000, 1))
        except Exception as error:
            outcome.update(ok=False, reason=_reason("database", error))
        finally:
            # Closing a broken connection may fail too; there is nothing left to keep.
            with contextlib.suppress(Exception):
                connection.close()
            _database_busy.release()
            done.set()

    threading.Thread(target=run, name="readiness-database", daemon=True).start()
    if not done.wait(timeout):
        logger.warning("readiness_check_failed", check="database", error="timeout")
        return {"ok": False, "reason": f"no answer within {timeout:g} seconds"}
    return dict(outcome)


# --- migrations -------------------------------------------------------------------------------

_migrations_applied_at: float | None = None


def migrations_cache_clear() -> None:
    global _migrations_applied_at
    _migrations_applied_at = None


def migrations_check() -> Check:
    """Every migration of this release is applied (``egov migrate`` has run)."""
    global _migrations_applied_at
    now = time.monotonic()
    if _migrations_applied_at is not None and now - _migrations_applied_at < (
        MIGRATIONS_CACHE_SECONDS
    ):
        return {"ok": True, "pending": 0}
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        return {"ok": False, "pending": len(plan), "reason": "migrations to apply: egov migrate"}
    _migrations_applied_at = now
    return {"ok": True, "pending": 0}


# --- cache ------------------------------------------------------------------------------------


def cache_check() -> Check:
    """A key set in the cache is read back (a shared cache: Redis answers)."""
    key = f"egov:readiness:{uuid.uuid4().hex}"
    value = uuid.uuid4().hex
    cache.set(key, value, timeout=30)
    read = cache.get(key)
    cache.delete(key)
    if read != value:
        return {"ok": False, "reason": "the cache did not return the value just set"}
    return {"ok": True}


# --- static files -----------------------------------------------------------------------------


def static_files_check() -> Check:
    """With the manifest storage, pages name static files through ``staticfiles.json``: it
    must be readable, and this process must have loaded it (a process started before
    ``collectstatic`` answers 500 on every page until it is restarted)."""
    from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage

    if not isinstance(staticfiles_storage, ManifestFilesMixin):
        return {"ok": True, "manifest": False}
    content = staticfiles_storage.read_manifest()
    if content is None:
        return {
            "ok": False,
            "manifest": True,
            "reason": f"{staticfiles_storage.manifest_name} missing: egov collectstatic",
        }
    try:
        paths = json.loads(content).get("paths")
    except (ValueError, AttributeError):
        paths = None
    if not isinstance(paths, dict) or not paths:
        return {
            "ok": False,
            "manifest": True,
            "reason": f"{staticfiles_storage.manifest_name} lists no files",
        }
    if not staticfiles_storage.hashed_files:
        return {
            "ok": False,
            "manifest": True,
            "reason": "this process started before collectstatic: restart it",
        }
    return {"ok": True, "manifest": True, "files": len(paths)}


# --- workers ----------------------------------------------------------------------------------


def worker_heartbeats(
    *, max_age: float, worker_id: str | None = None, name: str | None = None
) -> dict[str, Any]:
    """How many workers (or the one ``worker_id``, or those started with ``--name name``)
    beat within ``max_age`` seconds, and the age of the newest heartbeat (``None`` without
    any), both by the database's clock."""
    beats = WorkerHeartbeat.objects.all()
    if worker_id is not None:
        beats = beats.filter(worker_id=worker_id)
    if name is not None:
        # `egov worker --name NAME` beats as NAME-<random>: a new id at every start.
        beats = beats.filter(worker_id__startswith=f"{name}-")
    figures = beats.aggregate(
        workers_alive=Count("pk", filter=Q(seen_at__gte=Now() - timedelta(seconds=max_age))),
        age=ExpressionWrapper(Now() - Max("seen_at"), output_field=DurationField()),
    )
    age = figures["age"]
    return {
        "workers_alive": int(figures["workers_alive"] or 0),
        "newest_heartbeat_age_seconds": (
            None if age is None else round(max(age.total_seconds(), 0.0), 3)
        ),
    }


def workers_check() -> Check:
    """Workers with a fresh heartbeat (``EGOV_WORKER_STALE_SECONDS``). Advisory: a portal
    without a worker still serves every page (tasks wait in the queue), so none alive is a
    warning, not a failure — watch the worker with ``egov health worker``."""
    stale = float(settings.WORKER_STALE_SECONDS)
    figures = worker_heartbeats(max_age=stale)
    check: Check = {"ok": True, **figures, "max_age_seconds": stale}
    if not figures["workers_alive"]:
        check["warning"] = "no worker has sent a heartbeat within max_age_seconds"
    return check


# --- readiness --------------------------------------------------------------------------------

#: name -> (check, whether it needs the database)
CHECKS: dict[str, tuple[Callable[[], Check], bool]] = {
    "database": (database_check, False),
    "migrations": (migrations_check, True),
    "cache": (cache_check, False),
    "static_files": (static_files_check, False),
    "workers": (workers_check, True),
}


def _reason(name: str, error: BaseException) -> str:
    """The error's class only: its text may name hosts, ports or database accounts."""
    logger.warning(
        "readiness_check_failed", check=name, error=type(error).__name__, detail=str(error)
    )
    return type(error).__name__


def _run(name: str, function: Callable[[], Check]) -> Check:
    try:
        return function()
    except Exception as error:
        return {"ok": False, "reason": _reason(name, error)}


#: Anyone may ask ``/readyz`` (no login, and nginx passes it on), and each answer costs a
#: database connection of its own and a few queries: the probes of one process share an
#: answer this long, and one probe at a time runs the checks (the others wait for its answer,
#: instead of failing because an earlier check still holds the database).
READINESS_CACHE_SECONDS = 1.0
#: How long a probe waits for the one running the checks (which ends its database check in
#: ``DATABASE_TIMEOUT_SECONDS``).
READINESS_WAIT_SECONDS = DATABASE_TIMEOUT_SECONDS + 2.0

_readiness_lock = threading.Lock()
_readiness_answers: dict[tuple[str, ...], tuple[float, bool, dict[str, Any]]] = {}


def readiness_cache_clear() -> None:
    _readiness_answers.clear()


def readiness(names: Sequence[str]) -> tuple[bool, dict[str, Any]]:
    """Whether the named checks all pass, and the answer's body: the answer of the last
    second when there is one (``READINESS_CACHE_SECONDS``)."""
    key = tuple(names)
    if not _readiness_lock.acquire(timeout=READINESS_WAIT_SECONDS):
        logger.warning("not_ready", failed=["readiness"], error="timeout")
        return False, {
            "status": "not_ready",
            "checks": {},
            "warnings": [],
            "reason": "an earlier probe's checks did not end in time",
        }
    try:
        answered = _readiness_answers.get(key)
        if answered is not None and time.monotonic() - answered[0] < READINESS_CACHE_SECONDS:
            return answered[1], copy.deepcopy(answered[2])
        ready, body = _readiness_run(names)
        _readiness_answers[key] = (time.monotonic(), ready, body)
        return ready, copy.deepcopy(body)
    finally:
        _readiness_lock.release()


def readiness_answer(names: Sequence[str]) -> tuple[int, dict[str, Any]]:
    """The HTTP status (200 or 503) and body of a ``/readyz`` answer. Never an exception: the
    answer a load balancer reads stays an answer, and a check that breaks is a failed one."""
    try:
        ready, body = readiness(names)
    except Exception:
        logger.exception("readiness_failed")
        ready, body = False, {"status": "not_ready", "checks": {}, "warnings": []}
    return (200 if ready else 503), body


def _readiness_run(names: Sequence[str]) -> tuple[bool, dict[str, Any]]:
    """Run the named checks. A check that needs the database is not run when the database
    check failed: it would wait for the database on the request's own connection, without a
    timeout."""
    checks: dict[str, Check] = {}
    database_ok = True
    for name in names:
        function, needs_database = CHECKS[name]
        if needs_database and not database_ok:
            checks[name] = {"ok": False, "reason": "not checked: the database does not answer"}
            continue
        checks[name] = _run(name, function)
        if name == "database":
            database_ok = bool(checks[name]["ok"])
    ready = all(check["ok"] for check in checks.values())
    body: dict[str, Any] = {
        "status": "ready" if ready else "not_ready",
        "checks": checks,
        "warnings": [name for name, check in checks.items() if check.get("warning")],
    }
    if not ready:
        logger.warning(
            "not_ready", failed=[name for name, check in checks.items() if not check["ok"]]
        )
    return ready, body
