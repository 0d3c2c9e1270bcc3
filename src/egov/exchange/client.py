"""How the platform's own information systems call registries: through their gateway.

The portal and the back office never talk to a registry directly. They send an X-Road REST
request (``/r1/{service id}/{path}`` with ``X-Road-Client``) to the client side of their
gateway, which signs it, logs it and carries it over mutual TLS to the provider's gateway.
Every call has a timeout, and every failure becomes an :class:`ExchangeError` the caller turns
into a clear message for the person: a registry that does not answer never becomes a 500.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import quote, urlencode

import urllib3
from django.conf import settings

#: One pool per process: keep-alive connections to the local gateway.
_pool = urllib3.PoolManager(num_pools=4, maxsize=16, retries=False)

#: Narrows the purpose of a call to one code of the access right (ADR 0008); the detail
#: (the application number, the service code) goes in ``X-Road-Issue``.
PURPOSE_HEADER = "X-Egov-Purpose"


class Purpose(StrEnum):
    """The purpose codes of the platform's own calls, as the demo's access rights declare
    them (ADR 0008, "The demo's purposes")."""

    PREFILL = "prefill"  # the portal fills in the person's own application
    CHECK = "check"  # back offices and workers check an application's facts
    REPRESENTATION = "representation"  # the portal: who may act for an organisation
    OWN_DATA = "own-data"  # the portal shows a person their own data and who used it
    PROACTIVE = "proactive"  # event feeds: services that follow from a life event


class ExchangeError(Exception):
    """A call through the exchange did not give an answer the caller can use."""

    def __init__(self, code: str, detail: str = "", status: int = 0, body: Any = None) -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
        self.status = status
        self.body = body


class ExchangeUnavailable(ExchangeError):
    """The gateway, the exchange or the registry could not answer (try again later)."""


class ExchangeRefused(ExchangeError):
    """The provider answered with a 4xx of its own: not found, invalid identifier, ..."""


@dataclass(frozen=True)
class ExchangeResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    message_id: str
    x_road_error: str = ""

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


def user_id_for(user: Any) -> str:
    """``X-Road-UserId`` of the person on whose behalf a call is made, with the country code."""
    personal_number = getattr(user, "personal_number", "") or ""
    if personal_number:
        return f"BY{personal_number}"
    return f"BY-STAFF-{user.pk}"


def service_path(service: str, path: str = "") -> str:
    """``/r1/BY/GOV/MVD/population/person/<path>``, each identifier part percent-encoded."""
    parts = service.split("/")
    if len(parts) != 5 or not all(parts):
        raise ValueError(f"not a service identifier: {service!r}")
    encoded = "/".join(quote(part, safe="") for part in parts)
    suffix = "/".join(quote(segment, safe="") for segment in path.strip("/").split("/") if segment)
    return f"/r1/{encoded}" + (f"/{suffix}" if suffix else "")


def exchange_call(
    *,
    service: str,
    path: str = "",
    method: str = "GET",
    query: dict[str, Any] | None = None,
    client: str | None = None,
    user_id: str = "",
    purpose: Purpose | str = "",
    issue: str = "",
    timeout: float | None = None,
    body: bytes | None = None,
    content_type: str = "",
) -> ExchangeResponse:
    """Send one request through the local gateway and return the provider's answer as is.

    Raises :class:`ExchangeUnavailable` when no answer came back (connection refused, timeout)
    or the exchange itself failed (a response with ``X-Road-Error``)."""
    message_id = str(uuid.uuid4())
    headers = {
        "X-Road-Client": client or settings.EXCHANGE_CLIENT,
        "X-Road-Id": message_id,
        "Accept": "application/json",
    }
    if user_id:
        headers["X-Road-UserId"] = user_id
    if issue:
        headers["X-Road-Issue"] = issue
    if purpose:
        headers[PURPOSE_HEADER] = str(purpose)
    if content_type:
        headers["Content-Type"] = content_type
    url = settings.EXCHANGE_GATEWAY_URL.rstrip("/") + service_path(service, path)
    if query:
        url += "?" + urlencode(query)
    seconds = float(timeout if timeout is not None else settings.EXCHANGE_TIMEOUT)
    try:
        answer = _pool.request(
            method,
            url,
            body=body,
            headers=headers,
            timeout=urllib3.Timeout(connect=min(seconds, 2.0), read=seconds),
            redirect=False,
        )
    except urllib3.exceptions.HTTPError as error:
        raise ExchangeUnavailable("unreachable", str(error)) from error
    response = ExchangeResponse(
        status=answer.status,
        headers={name.lower(): value for name, value in answer.headers.items()},
        body=answer.data,
        message_id=message_id,
        x_road_error=answer.headers.get("X-Road-Error", ""),
    )
    if response.x_road_error:
        detail = ""
        try:
            detail = str(response.json().get("message", ""))
        except (ValueError, AttributeError):
            detail = ""
        raise ExchangeUnavailable(response.x_road_error, detail, status=response.status)
    return response


def exchange_get_json(**arguments: Any) -> Any:
    """GET a JSON document; 4xx → :class:`ExchangeRefused`, 5xx → :class:`ExchangeUnavailable`."""
    response = exchange_call(method="GET", **arguments)
    try:
        document = response.json()
    except ValueError as error:
        raise ExchangeUnavailable("invalid_response", "the answer is not JSON") from error
    if 400 <= response.status < 500:
        code = document.get("code", "refused") if isinstance(document, dict) else "refused"
        raise ExchangeRefused(str(code), status=response.status, body=document)
    if response.status >= 500:
        raise ExchangeUnavailable("provider_failed", status=response.status, body=document)
    return document
