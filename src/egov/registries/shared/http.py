"""The guard every registry service passes, and its answers as JSON or problem+json.

Registries are reachable only through the exchange. Each register serves as one provider
subsystem (``settings.REGISTRY_PROVIDERS``) and accepts only that subsystem's own key in
``X-Egov-Gateway-Key`` (ADR 0008): the key of another provider, even one on the same
gateway, opens nothing here. The provider gateway also says who asks (the X-Road headers) and
sets ``X-Egov-Purposes``, the purposes of the access right in effect; a personal-data service
refuses a call without them and records them with each access.
"""

from __future__ import annotations

import functools
import hmac
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt

from egov.core.exchange_files import provider_key_path

logger = structlog.get_logger(__name__)

PROBLEM_TYPE = "https://egov.example/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"
_TITLES = {
    400: gettext_lazy("The request is not valid"),
    403: gettext_lazy("Not allowed"),
    404: gettext_lazy("Not found"),
    405: gettext_lazy("Method not allowed"),
    500: gettext_lazy("Internal error"),
}
PURPOSES_HEADER = "X-Egov-Purposes"
#: The id the provider gateway generated for the call and signed into its record of it; the
#: client's own ``X-Road-Id`` is whatever the client chose, so it proves nothing.
REQUEST_ID_HEADER = "X-Road-Request-Id"
MAX_REQUEST_ID = 64
LANGUAGES = ("be", "ru", "en")
#: Bounds of one recorded purpose: the central registry's own limits, with room to spare.
MAX_PURPOSES = 20
MAX_CODE = 64
MAX_TEXT = 1000


@dataclass(frozen=True)
class Caller:
    """Who asks and why, as the provider gateway says: the X-Road headers of the call and the
    purposes (``{code, text, legal_basis}``, texts in be, ru and en) of the right in effect."""

    client: str
    user_id: str
    purposes: tuple[dict[str, Any], ...]
    issue: str
    message_id: str
    #: ``X-Road-Request-Id`` as the provider gateway set it; empty from a gateway without it.
    request_id: str = ""

    @property
    def member(self) -> str:
        """The member code of the client subsystem: "MVD" in "BY/GOV/MVD/backoffice"."""
        parts = self.client.split("/")
        return parts[2] if len(parts) >= 3 else ""


def json_response(body: dict[str, Any], status: int = 200) -> HttpResponse:
    """Registry answers are personal data on their way through the gateways: no cache on the
    way may keep them."""
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False),
        status=status,
        content_type="application/json; charset=utf-8",
    )
    add_never_cache_headers(response)
    return response


def problem(status: int, code: str, detail: str) -> HttpResponse:
    body = {
        "type": PROBLEM_TYPE + code,
        "title": str(_TITLES.get(status, gettext_lazy("Error"))),
        "status": status,
        "code": code,
        "detail": str(detail),
    }
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False), status=status, content_type=PROBLEM_CONTENT_TYPE
    )
    add_never_cache_headers(response)
    return response


def not_found() -> HttpResponse:
    return problem(404, "not_found", _("The register holds no record with this identifier."))


def invalid_identifier(detail: str) -> HttpResponse:
    return problem(400, "invalid_identifier", detail)


# --- the provider's own key ------------------------------------------------------------------

_keys: dict[Path, bytes] = {}
_keys_lock = threading.Lock()


def _provider_key(provider: str) -> bytes:
    """The provider subsystem's key, read from its file once per process. A missing or empty
    file is not remembered (``egov exchange setup`` may write it later) and opens nothing."""
    path = provider_key_path(Path(settings.EXCHANGE_PROVIDER_KEYS_DIR), provider)
    key = _keys.get(path)
    if key is not None:
        return key
    try:
        key = path.read_bytes().strip()
    except OSError:
        logger.error("registry_provider_key_missing", provider=provider, path=str(path))
        return b""
    if key:
        with _keys_lock:
            _keys[path] = key
    return key


def gateway_key_valid(request: HttpRequest, *, register: str) -> bool:
    """The call carries the key of ``register``'s own provider subsystem (constant time)."""
    expected = _provider_key(settings.REGISTRY_PROVIDERS[register])
    presented = request.headers.get("X-Egov-Gateway-Key", "").encode("utf-8", "replace")
    return bool(expected) and hmac.compare_digest(presented, expected)


# --- the purposes the provider gateway sets --------------------------------------------------


class PurposesInvalid(ValueError):
    """``X-Egov-Purposes`` is not a JSON array of ``{code, text, legal_basis}``."""


def _texts(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise PurposesInvalid("texts must be an object of strings")
    return {language: str(value.get(language, ""))[:MAX_TEXT] for language in LANGUAGES}


def purposes_parse(value: str) -> tuple[dict[str, Any], ...]:
    """The purposes as recorded: each ``{code, text: {be, ru, en}, legal_basis: {be, ru,
    en}}``, in the gateway's order, a language the gateway left out as an empty string.

    Raises :class:`PurposesInvalid` for anything else, or for an empty array."""
    try:
        # Headers arrive as ISO-8859-1 text; the gateway writes ASCII JSON, but a UTF-8 byte
        # sequence would come back intact.
        document = json.loads(value.encode("latin-1").decode("utf-8"))
    except (ValueError, UnicodeError) as error:
        raise PurposesInvalid("not JSON") from error
    if not isinstance(document, list) or not 1 <= len(document) <= MAX_PURPOSES:
        raise PurposesInvalid("not a non-empty array")
    purposes = []
    for item in document:
        if not isinstance(item, dict):
            raise PurposesInvalid("an item is not an object")
        code = item.get("code")
        if not isinstance(code, str) or not code.strip() or len(code) > MAX_CODE:
            raise PurposesInvalid("an item has no code")
        purposes.append(
            {
                "code": code.strip(),
                "text": _texts(item.get("text", {})),
                "legal_basis": _texts(item.get("legal_basis", {})),
            }
        )
    return tuple(purposes)


View = Callable[..., HttpResponse]


def registry_service(*, register: str, personal_data: bool) -> Callable[[View], View]:
    """Wrap a service view of ``register`` (a key of ``settings.REGISTRY_PROVIDERS``): its
    provider's key, GET only, and for personal data the purposes set by the gateway.

    The view receives the ``caller`` keyword argument."""

    def decorate(view: View) -> View:
        @csrf_exempt
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not gateway_key_valid(request, register=register):
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
            purposes: tuple[dict[str, Any], ...] = ()
            declared = request.headers.get(PURPOSES_HEADER, "")
            if personal_data:
                if not declared.strip():
                    return problem(
                        400,
                        "purpose_required",
                        _(
                            "A personal-data service answers only calls whose purposes the "
                            "exchange has set (X-Egov-Purposes)."
                        ),
                    )
                try:
                    purposes = purposes_parse(declared)
                except PurposesInvalid as error:
                    logger.warning("registry_purposes_invalid", register=register, error=str(error))
                    return problem(
                        400,
                        "invalid_purposes",
                        _(
                            "X-Egov-Purposes must be a JSON array of purposes, each with a "
                            "code, a text and a legal basis."
                        ),
                    )
            caller = Caller(
                client=request.headers.get("X-Road-Client", ""),
                user_id=request.headers.get("X-Road-UserId", ""),
                purposes=purposes,
                issue=request.headers.get("X-Road-Issue", ""),
                message_id=request.headers.get("X-Road-Id", ""),
                request_id=request.headers.get(REQUEST_ID_HEADER, "")[:MAX_REQUEST_ID],
            )
            return view(request, *args, caller=caller, **kwargs)

        return wrapped

    return decorate


# --- errors outside the services (handler404 and handler500 of ``egov.registries.urls``) ----


def unknown_path(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return problem(
        404,
        "not_found",
        _("The registries have no service at this address. See the service's OpenAPI document."),
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return problem(400, "bad_request", _("The request could not be understood."))


def server_error(request: HttpRequest) -> HttpResponse:
    return problem(500, "server_error", _("The register failed to answer. Try again later."))


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
