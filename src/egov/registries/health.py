"""Liveness and readiness of the registries' web process (docs/health-checks.md).

Every other address of this process answers only its gateway (the provider's key): these two
answer anyone, since supervisors and load balancers hold no key, and so say nothing but
whether the process, its database and its migrations are in order.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from egov.core import health
from egov.registries.shared.http import problem


def _only_get(request: HttpRequest) -> HttpResponse | None:
    if request.method in ("GET", "HEAD"):
        return None
    response = problem(405, "method_not_allowed", _("This service answers only GET requests."))
    response["Allow"] = "GET, HEAD"
    return response


def _answer(body: dict[str, object], status: int = 200) -> HttpResponse:
    response = JsonResponse(body, status=status)
    add_never_cache_headers(response)
    return response


@csrf_exempt
def healthz(request: HttpRequest) -> HttpResponse:
    return _only_get(request) or _answer({"status": "ok"})


@csrf_exempt
def readyz(request: HttpRequest) -> HttpResponse:
    refused = _only_get(request)
    if refused is not None:
        return refused
    status, body = health.readiness_answer(health.REGISTRIES_CHECKS)
    return _answer(body, status=status)
