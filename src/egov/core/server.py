"""The production web server: gunicorn with threaded workers. One definition of its settings,
used by `egov serve` and by the benchmarks' reference server, so both run alike."""

from __future__ import annotations

import os
from typing import Any

from gunicorn.app.base import BaseApplication


def gunicorn_options(*, bind: str, workers: int = 0, threads: int = 4) -> dict[str, Any]:
    from django.conf import settings

    return {
        "bind": bind,
        "workers": workers or (os.cpu_count() or 1) + 1,
        "threads": threads,
        "worker_class": "gthread",
        "timeout": 60,
        "graceful_timeout": 10,
        "keepalive": 5,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        # gunicorn's own records go through the platform's structlog rendering too.
        "logconfig_dict": settings.LOGGING,
        "forwarded_allow_ips": "127.0.0.1",
    }


class _Gunicorn(BaseApplication):
    def __init__(self, application: Any, options: dict[str, Any]):
        self.application = application
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self.application


def serve(application: Any, options: dict[str, Any]) -> None:
    _Gunicorn(application, options).run()
