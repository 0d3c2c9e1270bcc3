"""Serve the platform with gunicorn: a production-grade server, not `runserver`."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from egov.core.server import gunicorn_options, serve


class Command(BaseCommand):
    help = "Serve egov with gunicorn (threaded workers; static files by WhiteNoise)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000", help="host:port to listen on")
        parser.add_argument("--workers", type=int, default=settings.SERVER_WORKERS)
        parser.add_argument("--threads", type=int, default=settings.SERVER_THREADS)

    def handle(self, *args: Any, **options: Any) -> None:
        from egov.wsgi import application

        config = gunicorn_options(
            bind=options["bind"], workers=options["workers"], threads=options["threads"]
        )
        self.stdout.write(
            f"egov listening on http://{config['bind']}/ ({config['workers']} workers)"
        )
        serve(application, config)
