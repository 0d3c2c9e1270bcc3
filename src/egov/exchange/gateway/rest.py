"""An X-Road REST request as both sides of a gateway read it (PR-REST §4).

``/r1/{serviceId}[/path][?query]`` with the ``X-Road-Client`` header: the client proxy reads
it from an information system, the server proxy again from the calling gateway (it trusts
nothing the client proxy decided). Also which headers cross the exchange and the body limit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from aiohttp import web

from egov.exchange.gateway import messages
from egov.exchange.gateway.errors import client_error
from egov.exchange.identifiers import (
    ClientId,
    IdentifierError,
    ServiceId,
    client_id_parse,
    service_path_parse,
)

#: Set by the gateways, never taken from the caller.
OWN_HEADERS = frozenset(
    {
        "x-road-client",
        "x-road-service",
        "x-road-id",
        "x-road-request-id",
        "x-road-request-hash",
        "x-road-error",
        "x-egov-time",
        "x-egov-purposes",
    }
)
NOT_FORWARDED = messages.UNSIGNED | OWN_HEADERS
MAX_MESSAGE_ID = 255


@dataclass(frozen=True)
class RestRequest:
    client: ClientId
    service: ServiceId
    #: The path after the service code and the query, both as received (still encoded).
    rest: str
    query: str


def forwardable(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Headers passed on: not hop-by-hop, not the gateways' own, and no names with ``_``
    (some servers read ``X_Road_Client`` as ``X-Road-Client``)."""
    return [
        (name, value)
        for name, value in headers
        if name.lower() not in NOT_FORWARDED and "_" not in name
    ]


def to_client(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The provider's answer as the information system sees it: without the gateways' own
    signature headers and hop-by-hop headers."""
    return [(name, value) for name, value in headers if name.lower() not in messages.UNSIGNED]


def rest_request_parse(request: web.BaseRequest) -> RestRequest:
    """The service, the client and the rest of the path; a protocol violation is a
    ``Client.*`` error."""
    raw_path, _, query = request.raw_path.partition("?")
    try:
        service, rest = service_path_parse(raw_path)
    except IdentifierError as error:
        raise client_error("BadRequest", f"invalid service path: {error}") from None
    if "#" in query:
        # A fragment is not sent on: the signed request would differ from the one sent.
        raise client_error("BadRequest", "the query must not hold '#' (a fragment)")
    # PR-REST §4.3: with several X-Road-Client headers the last one counts.
    given = request.headers.getall("X-Road-Client", [])
    header = given[-1] if given else ""
    if not header:
        raise client_error("InvalidClientIdentifier", "the X-Road-Client header is missing")
    try:
        client = client_id_parse(header)
    except IdentifierError as error:
        raise client_error("InvalidClientIdentifier", f"invalid X-Road-Client: {error}") from None
    if len(request.headers.getall("X-Road-UserId", [])) > 1:
        raise client_error("BadRequest", "a request names at most one user (X-Road-UserId)")
    return RestRequest(client, service, rest, query)


def message_id_read(request: web.BaseRequest, generated: str) -> str:
    """The client's ``X-Road-Id`` (the last one, if several), else ``generated`` (PR-REST:
    the consumer's gateway generates it). One that cannot be returned in a header (not
    printable ASCII, or longer than 255 characters) is a bad request."""
    given = request.headers.getall("X-Road-Id", [])
    if not given:
        return generated
    value = given[-1]
    if not (value and value.isascii() and value.isprintable() and len(value) <= MAX_MESSAGE_ID):
        raise client_error(
            "BadRequest", f"X-Road-Id must be printable ASCII of 1 to {MAX_MESSAGE_ID} characters"
        )
    return value


async def body_read(request: web.BaseRequest, limit: int) -> bytes:
    """The whole body, refused as soon as it passes ``limit`` bytes (also when chunked)."""
    if not request.body_exists:
        return b""
    if (request.content_length or 0) > limit:
        raise client_error("RequestTooLarge", f"the request body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(65536):
        size += len(chunk)
        if size > limit:
            raise client_error("RequestTooLarge", f"the request body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
