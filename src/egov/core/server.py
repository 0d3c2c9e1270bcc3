"""The production web server: gunicorn with threaded workers. One definition of its settings,
used by `egov serve` and by the benchmarks' reference server, so both run alike."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from gunicorn import glogging
from gunicorn.app.base import BaseApplication

from egov.core.proxies import gunicorn_allow_list


class StructlogLogger(glogging.Logger):
    """gunicorn's logger, with its access line replaced by egov's (egov.core.access_log):
    no client address, user agent, path or query string. The error log is gunicorn's own,
    rendered by the platform's ``LOGGING`` (``logconfig_dict``)."""

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if not self.cfg.accesslog:
            return
        from egov.core.access_log import access_line

        access_line(
            environ,
            status=getattr(resp, "status", None),
            sent=getattr(resp, "sent", None),
            duration_ms=int(request_time.total_seconds() * 1000),
        )


def gunicorn_options(
    *,
    bind: str,
    workers: int = 0,
    threads: int = 4,
    when_ready: Callable[[Any], None] | None = None,
) -> dict[str, Any]:
    """``when_ready`` is called in the arbiter once every socket is bound, before the workers
    start: a server that cannot bind never reaches it."""
    from django.conf import settings  # egov's, or the benchmarks' bare reference project

    options = {
        "bind": bind,
        "workers": workers or (os.cpu_count() or 1) + 1,
        "threads": threads,
        "worker_class": "gthread",
        "timeout": 60,
        "graceful_timeout": 10,
        "keepalive": 5,
        # The access line is egov's (StructlogLogger), when EGOV_ACCESS_LOG is on.
        "accesslog": "-" if getattr(settings, "ACCESS_LOG", False) else None,
        "logger_class": StructlogLogger,
        "errorlog": "-",
        "loglevel": getattr(settings, "SERVER_LOG_LEVEL", "WARNING").lower(),
        # gunicorn's own records go through the platform's structlog rendering too.
        "logconfig_dict": settings.LOGGING,
        # The scheme headers (X-Forwarded-Proto, -Ssl, -Protocol) set wsgi.url_scheme only on
        # connections from the trusted proxies: the same list, addresses and CIDR networks
        # alike, as egov.core.proxies.TrustedProxyMiddleware applies to the headers Django
        # reads. Empty trusts no one (never "*"). gunicorn trusts connections on a Unix socket
        # whatever the list says: only processes allowed to open the socket file reach them.
        "forwarded_allow_ips": gunicorn_allow_list(getattr(settings, "TRUSTED_PROXIES", [])),
        # No gunicornc control socket: it would be one path ($HOME/.gunicorn/gunicorn.ctl) for
        # every server of the user (the portal's and the registries'), and the supervisor
        # (systemd) already restarts and stops the servers by signals.
        "control_socket_disable": True,
    }
    if when_ready is not None:
        options["when_ready"] = when_ready
    return options


def listeners(server: Any) -> str:
    """The addresses a gunicorn arbiter is bound to ("http://127.0.0.1:8000")."""
    return ", ".join(str(listener) for listener in server.LISTENERS)


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
