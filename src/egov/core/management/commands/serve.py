"""Serve the platform with gunicorn: a production-grade server, not `runserver`."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, application: Any, options: dict[str, Any]):
        self.application = application
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self.application


class Command(BaseCommand):
    help = "Serve egov with gunicorn (threads per worker, static files by WhiteNoise)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000", help="host:port to listen on")
        parser.add_argument("--workers", type=int, default=settings.SERVER_WORKERS)
        parser.add_argument("--threads", type=int, default=settings.SERVER_THREADS)
        parser.add_argument(
            "--wsgi", default="egov.wsgi:application", help="WSGI application to serve"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from django.utils.module_loading import import_string

        application = import_string(options["wsgi"].replace(":", "."))
        workers = options["workers"] or (os.cpu_count() or 1) + 1
        self.stdout.write(f"egov listening on http://{options['bind']}/ ({workers} workers)")
        _Gunicorn(
            application,
            {
                "bind": options["bind"],
                "workers": workers,
                "threads": options["threads"],
                "worker_class": "gthread",
                "timeout": 60,
                "graceful_timeout": 10,
                "keepalive": 5,
                "accesslog": None,
                "errorlog": "-",
                "loglevel": "warning",
                "forwarded_allow_ips": "127.0.0.1",
            },
        ).run()
