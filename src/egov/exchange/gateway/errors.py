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

    def response(self, detail: str = "") -> web.Response:
        body = {
            "type": self.error_type,
            "message": self.message,
            "detail": detail or str(uuid.uuid4()),
        }
        return web.Response(
            status=self.status,
            body=json.dumps(body).encode("utf-8"),
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "X-Road-Error": self.error_type,
            },
        )


def client_error(error_type: str, message: str) -> XRoadError:
    return XRoadError(400, f"Client.{error_type}", message)


def client_proxy_error(error_type: str, message: str) -> XRoadError:
    return XRoadError(500, f"Server.ClientProxy.{error_type}", message)


def server_proxy_error(error_type: str, message: str) -> XRoadError:
    return XRoadError(500, f"Server.ServerProxy.{error_type}", message)
