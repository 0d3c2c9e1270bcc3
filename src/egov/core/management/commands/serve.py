"""Serve the platform with gunicorn: a production-grade server, not `runserver`."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from egov.core.checks import static_manifest_missing
from egov.core.server import gunicorn_options, listeners, serve


class Command(BaseCommand):
    help = "Serve egov with gunicorn (threaded workers; static files by WhiteNoise)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--bind",
            default=None,
            help="host:port to listen on (default: EGOV_WEB_BIND; 127.0.0.1:8000 in the demo)",
        )
        parser.add_argument("--workers", type=int, default=settings.SERVER_WORKERS)
        parser.add_argument("--threads", type=int, default=settings.SERVER_THREADS)

    def handle(self, *args: Any, **options: Any) -> None:
        bind = options["bind"] or settings.WEB_BIND
        if not bind:
            raise CommandError(
                "No address to listen on: give --bind HOST:PORT or set EGOV_WEB_BIND "
                "(e.g. 127.0.0.1:8000 behind nginx)."
            )
        missing = static_manifest_missing()
        if missing:
            raise CommandError(missing)
        from egov.wsgi import application

        def ready(server: Any) -> None:
            # Only once gunicorn holds its sockets: a taken port never gets this far.
            self.stdout.write(f"egov listening on {listeners(server)}/ ({workers} workers)")
            self.stdout.flush()

        config = gunicorn_options(
            bind=bind, workers=options["workers"], threads=options["threads"], when_ready=ready
        )
        workers = config["workers"]
        serve(application, config)
