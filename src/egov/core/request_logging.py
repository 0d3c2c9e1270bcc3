"""One structured log line per request (django-structlog), with a request id bound to every
event logged while the request runs.

A request's line names the URL pattern it matched (``GET en/account/reset/<uidb64>/<token>/``),
never the path or the query string a person typed or was sent: those carry search terms,
personal numbers and one-time tokens. The client's address and user agent are left out too;
the user is named by the account's id only.
"""

from __future__ import annotations

import re
from typing import Any

import structlog
from django.http import HttpRequest, HttpResponse
from django.urls import ResolverMatch
from django_structlog import signals
from django_structlog.middlewares import RequestMiddleware

UNMATCHED = "(no matching page)"


def request_route(request: HttpRequest) -> str:
    match: ResolverMatch | None = getattr(request, "resolver_match", None)
    return match.route if match is not None and match.route else UNMATCHED


class RequestLogMiddleware(RequestMiddleware):
    @staticmethod
    def format_request(request: HttpRequest) -> str:
        return f"{request.method} {request_route(request)}"


#: nginx's ``$request_id`` (deploy/nginx/egov-proxy.conf sets ``X-Request-ID`` from it).
EDGE_REQUEST_ID = re.compile(r"[0-9a-f]{32}")


def _leave_out_the_user_agent(
    sender: Any, request: HttpRequest, log_kwargs: dict[str, Any], **kwargs: Any
) -> None:
    log_kwargs.pop("user_agent", None)
    # egov makes its own request id; the front's id, when it has nginx's shape, is kept beside
    # it so that a line of nginx's access log leads to egov's lines of the same request.
    edge = request.headers.get("X-Request-ID", "")
    if EDGE_REQUEST_ID.fullmatch(edge):
        structlog.contextvars.bind_contextvars(edge_request_id=edge)


def _name_the_view(
    sender: Any,
    request: HttpRequest,
    response: HttpResponse,
    log_kwargs: dict[str, Any],
    **kwargs: Any,
) -> None:
    match: ResolverMatch | None = getattr(request, "resolver_match", None)
    if match is not None:
        log_kwargs["view"] = match.view_name


signals.bind_extra_request_metadata.connect(
    _leave_out_the_user_agent, dispatch_uid="egov.request_logging.user_agent"
)
signals.bind_extra_request_finished_metadata.connect(
    _name_the_view, dispatch_uid="egov.request_logging.view"
)
