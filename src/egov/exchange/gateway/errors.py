"""Errors of the exchange itself, in X-Road's shape (PR-REST §4.6).

The body is ``{"type", "message", "detail"}`` and the ``X-Road-Error`` header repeats the
type, so an information system can tell them from a provider's own errors. ``Client.*`` (400)
is a request that breaks the protocol, ``Server.ClientProxy.*`` (500) a failure in the
caller's gateway, ``Server.ServerProxy.*`` (500) one in the provider's.
"""

from __future__ import annotations

import json
import uuid

from aiohttp import web


class XRoadError(Exception):
    """An error inside the exchange: X-Road's ``{type, message, detail}`` with a status."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message
        self.detail = str(uuid.uuid4())

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
