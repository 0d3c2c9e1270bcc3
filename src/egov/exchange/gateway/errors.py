"""Errors of the exchange itself, in X-Road's shape (PR-REST §4.6).

The body is ``{"type", "message", "detail"}`` and the ``X-Road-Error`` header repeats the
type, so an information system can tell them from a provider's own errors. ``Client.*`` (400)
is a request that breaks the protocol, ``Server.ClientProxy.*`` (500) a failure in the
caller's gateway, ``Server.ServerProxy.*`` (500) one in the provider's.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import structlog
from aiohttp import web

from egov.core.logging import security_event

logger = structlog.get_logger(__name__)
#: One line per request when ``EGOV_ACCESS_LOG`` is on (``egov gateway run`` keeps this
#: logger at INFO then, whatever ``EGOV_LOG_LEVEL`` says).
ACCESS_LOGGER = "egov.access"
access_logger = structlog.get_logger(ACCESS_LOGGER)

#: Failures of the exchange's own machinery; every other error refuses a call.
OPERATIONAL = frozenset(
    {"OutdatedGlobalConf", "NetworkError", "ServiceFailed", "InternalError", "TimestampingFailed"}
)


class XRoadError(Exception):
    """An error inside the exchange: X-Road's ``{type, message, detail}`` with a status."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message
        self.detail = str(uuid.uuid4())

    @property
    def refusal(self) -> bool:
        """Whether the exchange refused the call (a security event), rather than failed."""
        return self.error_type.rsplit(".", 1)[-1] not in OPERATIONAL

    def response(self, message_id: str = "") -> web.Response:
        """The error for the caller; ``message_id`` (the client's ``X-Road-Id`` or the one
        generated for it) is returned in ``X-Road-Id``, as with any answer. ``detail`` is a
        fresh id to find this error in the gateway's log."""
        body = {"type": self.error_type, "message": self.message, "detail": self.detail}
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Road-Error": self.error_type,
        }
        if message_id:
            headers["X-Road-Id"] = message_id
        return web.Response(
            status=self.status, body=json.dumps(body).encode("utf-8"), headers=headers
        )


def client_error(error_type: str, message: str) -> XRoadError:
    return XRoadError(400, f"Client.{error_type}", message)


def client_proxy_error(error_type: str, message: str) -> XRoadError:
    return XRoadError(500, f"Server.ClientProxy.{error_type}", message)


def server_proxy_error(error_type: str, message: str) -> XRoadError:
    return XRoadError(500, f"Server.ServerProxy.{error_type}", message)


def exchange_error_report(
    error: XRoadError, *, side: str, gateway: str, message_id: str, ids: Mapping[str, str]
) -> None:
    """Log an error this gateway answered with: a refusal as a security event on
    ``egov.security``, a failure as a warning. Identifiers only (the client, the service,
    the message id, the ``detail`` returned to the caller): never the path, the query, the
    user or the message, which may hold personal data."""
    fields = {
        "side": side,
        "gateway": gateway,
        "error_type": error.error_type,
        "message_id": message_id,
        "detail": error.detail,
        **ids,
    }
    if error.refusal:
        security_event("exchange_call_refused", **fields)
    else:
        logger.warning("exchange_call_failed", **fields)


@dataclass
class CallIds:
    """What is known of a call so far, for its error answer and its log lines: the message id
    returned in ``X-Road-Id`` and the identifiers (client, service) once parsed."""

    side: str
    gateway: str
    message_id: str = ""
    ids: dict[str, str] = field(default_factory=dict)


def access_line(call: CallIds, status: int, started: float, error: str = "") -> None:
    """The access-log line of one request: identifiers, status and duration; never the
    user, the path or the query, which may hold personal data."""
    access_logger.info(
        "access",
        side=call.side,
        gateway=call.gateway,
        message_id=call.message_id,
        client=call.ids.get("client", ""),
        service=call.ids.get("service", ""),
        status=status,
        error=error,
        duration_ms=round((time.perf_counter() - started) * 1000, 1),
    )


async def answer_in_xroad_shape(
    call: CallIds,
    handler: Callable[[], Awaitable[web.StreamResponse]],
    internal_error: Callable[[str, str], XRoadError],
    *,
    access_log: bool = False,
) -> web.StreamResponse:
    """Run one side's handler; whatever fails becomes X-Road's error shape, never aiohttp's
    bare 500: an :class:`XRoadError` as it is, undecodable headers as ``Client.BadRequest``,
    anything else as ``<side>.InternalError`` logged with its trace. With ``access_log``
    one access-log line follows each answer."""
    started = time.perf_counter()
    response = await _answer(call, handler, internal_error)
    if access_log:
        access_line(call, response.status, started, response.headers.get("X-Road-Error", ""))
    return response


async def _answer(
    call: CallIds,
    handler: Callable[[], Awaitable[web.StreamResponse]],
    internal_error: Callable[[str, str], XRoadError],
) -> web.StreamResponse:
    try:
        return await handler()
    except XRoadError as error:
        answer = error
    except UnicodeError:
        answer = client_error("BadRequest", "header values must be UTF-8 text")
    except Exception:
        failure = internal_error(
            "InternalError", f"internal error in gateway {call.gateway}; see detail in its log"
        )
        logger.exception(
            "exchange_internal_error",
            side=call.side,
            gateway=call.gateway,
            message_id=call.message_id,
            detail=failure.detail,
            **call.ids,
        )
        return failure.response(call.message_id)
    exchange_error_report(
        answer, side=call.side, gateway=call.gateway, message_id=call.message_id, ids=call.ids
    )
    return answer.response(call.message_id)
