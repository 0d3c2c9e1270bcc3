"""Errors of the REST API as RFC 9457 problem details (``application/problem+json``).

Every error has a stable ``code`` another system can act on, a translated ``title`` and
``detail`` for a person, and, for invalid input, ``errors`` by field.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response

from egov.core.errors import ApplicationError

PROBLEM_TYPE = "https://egov.example/problems/"
CONTENT_TYPE = "application/problem+json"

TITLES = {
    400: lambda: _("The request is not valid"),
    401: lambda: _("Authentication is required"),
    403: lambda: _("Not allowed"),
    404: lambda: _("Not found"),
    405: lambda: _("Method not allowed"),
    406: lambda: _("Not acceptable"),
    409: lambda: _("Conflict"),
    413: lambda: _("Request too large"),
    415: lambda: _("Unsupported media type"),
    422: lambda: _("The request cannot be processed"),
    429: lambda: _("Too many requests"),
}


def problem(
    status_code: int, code: str, detail: str, *, errors: dict[str, Any] | None = None
) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + code,
        "title": str(TITLES.get(status_code, lambda: _("Error"))()),
        "status": status_code,
        "code": code,
        "detail": str(detail),
    }
    if errors:
        body["errors"] = errors
    return Response(body, status=status_code, content_type=CONTENT_TYPE)


def _flatten(detail: Any) -> dict[str, Any]:
    if isinstance(detail, dict):
        return {
            key: [str(item) for item in value] if isinstance(value, list) else str(value)
            for key, value in detail.items()
        }
    if isinstance(detail, list):
        return {"non_field_errors": [str(item) for item in detail]}
    return {"non_field_errors": [str(detail)]}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, Http404):
        return problem(404, "not_found", _("There is nothing at this address for you."))
    if isinstance(exc, PermissionDenied):
        return problem(403, "permission_denied", _("You may not do this."))
    if isinstance(exc, ApplicationError):
        status_code = int(getattr(exc, "http_status", 0) or 422)
        errors = getattr(exc, "errors", None)
        return problem(status_code, exc.code, str(exc.message), errors=errors)
    if isinstance(exc, exceptions.ValidationError):
        return problem(400, "invalid", _("Some values are not valid."), errors=_flatten(exc.detail))
    if isinstance(exc, exceptions.APIException):
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        response = problem(exc.status_code, str(code), str(exc.detail))
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            response["WWW-Authenticate"] = "Bearer"
            response.status_code = status.HTTP_401_UNAUTHORIZED
        if getattr(exc, "wait", None):
            response["Retry-After"] = str(int(exc.wait))
        return response
    return None
