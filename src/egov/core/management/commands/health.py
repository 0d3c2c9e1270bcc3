"""``egov health worker``: is a background worker alive? For supervisors and monitoring.

The worker has no listener; every worker writes a heartbeat into the database every few
seconds (``egov.core.worker``). The command prints JSON and exits 0 when a heartbeat (of any
worker, of ``--worker-id``, or of the workers started with ``--name``) is younger than
``--max-age`` seconds, 1 otherwise — also when the database cannot be asked.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from egov.core.health import worker_heartbeats


class Command(BaseCommand):
    help = "Health checks of processes without a listener: `egov health worker`."

    def add_arguments(self, parser: CommandParser) -> None:
        checks = parser.add_subparsers(dest="check", metavar="CHECK", required=True)
        worker = checks.add_parser(
            "worker",
            help="Exit 0 when a worker's heartbeat is fresh, 1 otherwise; JSON on stdout.",
        )
        worker.add_argument(
            "--worker-id",
            default=None,
            help="Only this worker's heartbeat (the id `egov worker` prints when it starts).",
        )
        worker.add_argument(
            "--name",
            default=None,
            help="Only the workers started with `egov worker --name NAME` (e.g. a unit's).",
        )
        worker.add_argument(
            "--max-age",
            type=float,
            default=None,
            help="Seconds a heartbeat stays fresh (default: EGOV_WORKER_STALE_SECONDS).",
        )

    def handle(self, *args: Any, check: str, **options: Any) -> None:
        if check != "worker":  # argparse allows only the subcommands above
            raise CommandError(f"unknown check: {check}")
        max_age = options["max_age"]
        if max_age is None:
            max_age = float(settings.WORKER_STALE_SECONDS)
        if max_age <= 0:
            raise CommandError("--max-age must be a number of seconds above 0")
        worker_id = options["worker_id"]
        answer: dict[str, Any] = {"check": "worker", "max_age_seconds": max_age}
        name = options["name"]
        if worker_id is not None:
            answer["worker_id"] = worker_id
        if name is not None:
            answer["name"] = name
        try:
            figures = worker_heartbeats(max_age=max_age, worker_id=worker_id, name=name)
        except Exception as error:  # a database that cannot be asked: not alive, said so
            answer.update(ok=False, reason=type(error).__name__)
        else:
            answer.update(ok=figures["workers_alive"] > 0, **figures)
        self.stdout.write(json.dumps(answer))
        if not answer["ok"]:
            sys.exit(1)
