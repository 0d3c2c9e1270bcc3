"""The web servers' access log (``EGOV_ACCESS_LOG=true``): one ``egov.access`` line per request,
written by the server when the answer has gone out, so its duration is the client's.

A line names the request by the URL pattern Django matched, never the path or the query string
(they carry personal numbers, search terms and one-time tokens), and never the client's address
or user agent. The middleware leaves what the line may tell in the WSGI environ, which the
server (``egov.core.server``) reads back when it writes the line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from django.http import HttpRequest, HttpResponseBase

from egov.core.logging import ACCESS_LOGGER
from egov.core.request_logging import UNMATCHED, request_route

ROUTE_KEY = "egov.route"
REQUEST_ID_KEY = "egov.request_id"

access_logger = structlog.get_logger(ACCESS_LOGGER)


class AccessLogMiddleware:
    """Inside the request line's middleware (its request id is bound there)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        environ = getattr(request, "environ", None)
        if isinstance(environ, dict):
            environ[ROUTE_KEY] = request_route(request)
            request_id = structlog.contextvars.get_contextvars().get("request_id")
            if request_id:
                environ[REQUEST_ID_KEY] = str(request_id)
        return response


def access_line(
    environ: dict[str, Any], *, status: int | str | None, sent: int | None, duration_ms: int
) -> None:
    """Write the access line of one answered request."""
    fields: dict[str, Any] = {
        # As the request line of egov.core.request_logging writes it: "GET en/services/".
        "request": f"{environ.get('REQUEST_METHOD', '')} {environ.get(ROUTE_KEY, UNMATCHED)}",
        "code": int(str(status).split(None, 1)[0]) if status else None,
        "bytes": sent,
        "duration_ms": duration_ms,
    }
    if REQUEST_ID_KEY in environ:
        fields["request_id"] = environ[REQUEST_ID_KEY]
    access_logger.info("access", **fields)
