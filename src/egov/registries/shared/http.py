"""The guard every registry service passes, and its answers as JSON or problem+json.

Registries are reachable only through the exchange: the provider gateway adds a shared key
(``X-Egov-Gateway-Key``) and the X-Road headers saying who asks and why. A personal-data
service refuses a call that does not say who the person asking is and for what purpose.
"""

from __future__ import annotations

import functools
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt

PROBLEM_TYPE = "https://egov.example/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"
_TITLES = {
    400: gettext_lazy("The request is not valid"),
    403: gettext_lazy("Not allowed"),
    404: gettext_lazy("Not found"),
    405: gettext_lazy("Method not allowed"),
}


@dataclass(frozen=True)
class Caller:
    """Who asks, as the gateway says: the X-Road headers of the call."""

    client: str
    user_id: str
    purpose: str
    issue: str
    message_id: str

    @property
    def member(self) -> str:
        """The member code of the client subsystem: "MVD" in "BY/GOV/MVD/backoffice"."""
        parts = self.client.split("/")
        return parts[2] if len(parts) >= 3 else ""


def json_response(body: dict[str, Any], status: int = 200) -> HttpResponse:
    return HttpResponse(
        json.dumps(body, ensure_ascii=False),
        status=status,
        content_type="application/json; charset=utf-8",
    )


def problem(status: int, code: str, detail: str) -> HttpResponse:
    body = {
        "type": PROBLEM_TYPE + code,
        "title": str(_TITLES.get(status, gettext_lazy("Error"))),
        "status": status,
        "code": code,
        "detail": str(detail),
    }
    return HttpResponse(
        json.dumps(body, ensure_ascii=False), status=status, content_type=PROBLEM_CONTENT_TYPE
    )


def not_found() -> HttpResponse:
    return problem(404, "not_found", _("The register holds no record with this identifier."))


def invalid_identifier(detail: str) -> HttpResponse:
    return problem(400, "invalid_identifier", detail)


def _gateway_key_valid(request: HttpRequest) -> bool:
    expected = str(settings.EXCHANGE_SERVICE_KEY or "")
    presented = request.headers.get("X-Egov-Gateway-Key", "")
    return bool(expected) and hmac.compare_digest(
        presented.encode("utf-8"), expected.encode("utf-8")
    )


View = Callable[..., HttpResponse]


def registry_service(*, personal_data: bool) -> Callable[[View], View]:
    """Wrap a service view: the gateway's key, GET only, and for personal data who and why.

    The view receives the ``caller`` keyword argument."""

    def decorate(view: View) -> View:
        @csrf_exempt
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not _gateway_key_valid(request):
                return problem(
                    403,
                    "gateway_required",
                    _("Registries answer only calls that come through the exchange."),
                )
            if request.method != "GET":
                response = problem(
                    405, "method_not_allowed", _("This service answers only GET requests.")
                )
                response["Allow"] = "GET"
                return response
            caller = Caller(
                client=request.headers.get("X-Road-Client", ""),
                user_id=request.headers.get("X-Road-UserId", ""),
                purpose=request.headers.get("X-Egov-Purpose", ""),
                issue=request.headers.get("X-Road-Issue", ""),
                message_id=request.headers.get("X-Road-Id", ""),
            )
            if personal_data and not (caller.user_id.strip() and caller.purpose.strip()):
                return problem(
                    400,
                    "purpose_required",
                    _(
                        "A personal-data service needs the person asking (X-Road-UserId) and "
                        "the purpose of the request (X-Egov-Purpose)."
                    ),
                )
            return view(request, *args, caller=caller, **kwargs)

        return wrapped

    return decorate


def paging_parameters(request: HttpRequest) -> tuple[int, int] | HttpResponse:
    """``after`` (default 0) and ``limit`` (default 100, at most 500) of an events feed, read
    by the bounded parser: a huge or malformed number is a 400 at once, never a giant int."""
    from egov.core.numbers import NumberError, parse_integer

    try:
        after = parse_integer(request.GET.get("after") or "0", minimum=0, maximum=2**63 - 1)
        limit = parse_integer(request.GET.get("limit") or "100", minimum=1)
    except NumberError:
        after = limit = -1
    if after < 0 or limit < 1:
        return problem(
            400,
            "invalid_parameter",
            _("after must be a whole number of zero or more and limit one of 1 to 500."),
        )
    return after, min(limit, 500)
