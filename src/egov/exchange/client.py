"""How the platform's own information systems call registries: through their gateway.

The portal and the back office never talk to a registry directly. They send an X-Road REST
request (``/r1/{service id}/{path}`` with ``X-Road-Client``) to the client side of their
gateway, which signs it, logs it and carries it over mutual TLS to the provider's gateway.
Every call has a timeout, and every failure becomes an :class:`ExchangeError` the caller turns
into a clear message for the person: a registry that does not answer never becomes a 500.

The gateway authenticates the subsystem a call speaks for (ADR 0008, connection type
``HTTPS``): on an ``https://`` gateway URL the call presents that subsystem's own
information-system certificate (``core/exchange_files.client_certificate_paths``) and checks
the gateway's TLS certificate against the platform CA. Each certificate has its own pool of
keep-alive connections, so a connection opened for one subsystem never carries another's
call. A plain ``http://`` URL presents no certificate (connection type ``HTTP``).

Identifiers are configuration, never a country written into code: the portal's client is
``EGOV_EXCHANGE_CLIENT`` (``KZ/GOV/NCES/portal``), whose instance and member class also name
the agencies' back offices (``KZ/GOV/<agency>/backoffice``) and prefix ``X-Road-UserId``
(``KZ<personal number>``, ``KZ-STAFF-<id>``); a register's services are its provider
subsystem (``EGOV_REGISTRY_<REGISTER>_SUBSYSTEM``) and a service code. An empty provider
subsystem means the country has no such register: :func:`registry_service` is then "".
"""

from __future__ import annotations

import json
import ssl
import threading
import uuid
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import structlog
import urllib3
from django.conf import settings

from egov.core.exchange_files import client_certificate_paths
from egov.trust.pki.ca import ISSUING_CERT, ROOT_CERT
from egov.trust.pki.keys import tls_key_password

logger = structlog.get_logger(__name__)

#: Keep-alive connections to the local gateway: one pool for plain HTTP, and one per client
#: certificate for TLS (keyed by the client and the files' identity, so a renewed certificate
#: gets a fresh pool).
_plain_pool = urllib3.PoolManager(num_pools=4, maxsize=16, retries=False)
_tls_pools: dict[str, tuple[tuple[object, ...], urllib3.PoolManager]] = {}
_tls_lock = threading.Lock()

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


def _client_parts() -> list[str]:
    """``[instance, member class, member, subsystem]`` of the portal's own client."""
    parts = str(settings.EXCHANGE_CLIENT).split("/")
    if len(parts) not in (3, 4) or not all(parts):
        raise ValueError(f"EGOV_EXCHANGE_CLIENT is not a client identifier: {parts!r}")
    return parts


def exchange_instance() -> str:
    """The platform's instance: that of its own client (``EGOV_EXCHANGE_CLIENT``)."""
    return _client_parts()[0]


def user_id_for(user: Any) -> str:
    """``X-Road-UserId`` of the person on whose behalf a call is made: the instance's code
    and the personal number (``BY4150592M012PB5``), or ``<instance>-STAFF-<id>`` for an
    official without one."""
    personal_number = getattr(user, "personal_number", "") or ""
    if personal_number:
        return f"{exchange_instance()}{personal_number}"
    return f"{exchange_instance()}-STAFF-{user.pk}"


def system_user_id() -> str:
    """``X-Road-UserId`` of an agency's automatic steps: no official acts in them."""
    return f"{exchange_instance()}-STAFF-SYSTEM"


def backoffice_client(agency_code: str) -> str:
    """The client subsystem the back office and workers of an agency call the exchange as:
    ``<instance>/<class>/<agency>/backoffice``, in the portal's instance and member class."""
    instance, member_class = _client_parts()[:2]
    return f"{instance}/{member_class}/{agency_code}/backoffice"


def registry_service(register: str, service_code: str) -> str:
    """The identifier of a base register's service: its provider subsystem from
    ``settings.REGISTRY_PROVIDERS`` and ``service_code``; "" when the country has no such
    register (an empty provider subsystem)."""
    provider = str(settings.REGISTRY_PROVIDERS.get(register, "") or "").strip("/")
    return f"{provider}/{service_code}" if provider else ""


def registry_present(register: str) -> bool:
    """Whether the country has the register (its provider subsystem is configured)."""
    return bool(str(settings.REGISTRY_PROVIDERS.get(register, "") or "").strip("/"))


def service_path(service: str, path: str = "") -> str:
    """``/r1/BY/GOV/MVD/population/person/<path>``, each identifier part percent-encoded."""
    parts = service.split("/")
    if len(parts) != 5 or not all(parts):
        raise ValueError(f"not a service identifier: {service!r}")
    encoded = "/".join(quote(part, safe="") for part in parts)
    suffix = "/".join(quote(segment, safe="") for segment in path.strip("/").split("/") if segment)
    return f"/r1/{encoded}" + (f"/{suffix}" if suffix else "")


def _ca_files() -> list[Path]:
    """The CA certificates the gateway's TLS certificate must chain to."""
    configured = str(settings.EXCHANGE_CA_FILE or "")
    if configured:
        return [Path(configured)]
    pki = Path(settings.PKI_DIR)
    return [pki / ROOT_CERT, pki / ISSUING_CERT]


def _files_identity(paths: list[Path]) -> tuple[object, ...]:
    identity: list[object] = []
    for path in paths:
        status = path.stat()
        identity += [str(path), status.st_ino, status.st_size, status.st_mtime_ns]
    return tuple(identity)


def _tls_pool(client: str) -> urllib3.PoolManager:
    """The pool whose connections present ``client``'s certificate; built on first use and
    again when the certificate, its key or the CA files change on disk."""
    certificate, key = client_certificate_paths(Path(settings.EXCHANGE_CLIENT_TLS_DIR), client)
    ca_files = _ca_files()
    try:
        identity = _files_identity([certificate, key, *ca_files])
    except OSError as error:
        logger.error("exchange_client_certificate_missing", client=client, file=error.filename)
        raise ExchangeUnavailable(
            "client_certificate_missing", f"{client}: {error.filename} is missing"
        ) from error
    cached = _tls_pools.get(client)
    if cached is not None and cached[0] == identity:
        return cached[1]
    with _tls_lock:
        cached = _tls_pools.get(client)
        if cached is not None and cached[0] == identity:
            return cached[1]
        try:
            context = ssl.create_default_context(
                ssl.Purpose.SERVER_AUTH,
                cadata="".join(path.read_text(encoding="ascii") for path in ca_files),
            )
            context.load_cert_chain(certificate, key, password=tls_key_password)
        except (OSError, ValueError, ssl.SSLError) as error:
            logger.error("exchange_client_certificate_invalid", client=client, error=str(error))
            raise ExchangeUnavailable("client_certificate_invalid", client) from error
        pool = urllib3.PoolManager(num_pools=2, maxsize=16, retries=False, ssl_context=context)
        _tls_pools[client] = (identity, pool)
    if cached is not None:
        cached[1].clear()  # connections of the replaced certificate close as they come back
    return pool


def _pool_for(url: str, client: str) -> urllib3.PoolManager:
    return _tls_pool(client) if url.startswith("https://") else _plain_pool


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
    """Send one request through the local gateway, as ``client`` (the platform's own
    subsystem by default), and return the provider's answer as is.

    Raises :class:`ExchangeUnavailable` when no answer came back (connection refused, timeout,
    TLS refused, no certificate for ``client``) or the exchange itself failed (a response with
    ``X-Road-Error``)."""
    message_id = str(uuid.uuid4())
    client = client or settings.EXCHANGE_CLIENT
    headers = {
        "X-Road-Client": client,
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
    pool = _pool_for(url, client)
    try:
        answer = pool.request(
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
