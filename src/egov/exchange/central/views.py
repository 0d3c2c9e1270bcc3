"""The central registry's only public page: the signed global configuration."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from egov.core.problem import PROBLEM_TYPE
from egov.exchange.central.publication import GlobalconfNotConfigured, globalconf_signed


@require_GET
def globalconf(request: HttpRequest) -> HttpResponse:
    try:
        response: HttpResponse = JsonResponse(globalconf_signed())
    except GlobalconfNotConfigured as error:
        response = JsonResponse(
            {
                "type": PROBLEM_TYPE + error.code,
                "title": _("Service unavailable"),
                "status": 503,
                "code": error.code,
                "detail": str(error.message),
            },
            status=503,
            content_type="application/problem+json",
        )
    response["Cache-Control"] = "no-store"
    return response
