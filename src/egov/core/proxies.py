"""Forwarded headers are believed only from the reverse proxies in front of the web servers.

``X-Forwarded-Proto`` makes a plain-HTTP request count as HTTPS (no redirect, HSTS, secure
cookies), ``X-Forwarded-For`` names the client that login throttling counts, and
``X-Request-ID`` is copied into the request's log lines. From anyone who can reach the web
server directly they are lies: on a connection whose address is not in
``settings.TRUSTED_PROXIES`` (``EGOV_TRUSTED_PROXIES``: addresses or CIDR networks) they, and
their relatives, are removed before any other middleware reads them. Empty trusts no one.

gunicorn (``egov serve``) gets the same list as ``forwarded_allow_ips`` (it accepts networks there
too, as strictly; :func:`gunicorn_allow_list`), so the scheme it puts in ``wsgi.url_scheme``
follows the same rule.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponseBase

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: What a trusted proxy may tell about the request it forwards (``request.META`` names).
FORWARDED_HEADERS = (
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_SSL",
    "HTTP_X_FORWARDED_PROTOCOL",
    "HTTP_X_REAL_IP",
    "HTTP_X_REQUEST_ID",
    "HTTP_FORWARDED",
)


#: Where a dual-stack listener puts its IPv4 clients: ``::ffff:a.b.c.d``.
IPV4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


def networks_parse(entries: Iterable[str]) -> tuple[Network, ...]:
    """The networks of ``EGOV_TRUSTED_PROXIES``: an address is a network of one. Strict, as
    gunicorn is: ``10.0.0.1/8`` (host bits set) is refused, not read as ``10.0.0.0/8``. An
    IPv4-mapped entry (``::ffff:10.0.0.5``) is the IPv4 network it names, as a client's
    mapped address is the IPv4 address it names (:func:`address_trusted`)."""
    networks: list[Network] = []
    for entry in entries:
        text = entry.strip()
        if not text:
            continue
        try:
            network = ipaddress.ip_network(text)
        except ValueError as error:
            raise ValueError(
                f"{text!r} is neither an IP address nor a network in CIDR notation ({error})"
            ) from error
        if isinstance(network, ipaddress.IPv6Network) and network.subnet_of(IPV4_MAPPED):
            mapped = network.network_address.ipv4_mapped
            assert mapped is not None
            network = ipaddress.IPv4Network((mapped, network.prefixlen - 96))
        networks.append(network)
    return tuple(networks)


def gunicorn_allow_list(entries: Iterable[str]) -> str:
    """``forwarded_allow_ips`` for gunicorn, which trusts the same connections as
    :class:`TrustedProxyMiddleware`: every network once, without the blanks or spaces of the
    variable (gunicorn refuses an empty entry), and each IPv4 network also in its IPv4-mapped
    form, in which a dual-stack listener (``[::]:8000``) sees its IPv4 clients."""
    networks: list[Network] = []
    for network in networks_parse(entries):
        networks.append(network)
        if isinstance(network, ipaddress.IPv4Network):
            mapped = ipaddress.IPv6Address(f"::ffff:{network.network_address}")
            networks.append(ipaddress.IPv6Network((mapped, network.prefixlen + 96)))
    texts = [
        str(network.network_address) if network.num_addresses == 1 else str(network)
        for network in networks
    ]
    return ",".join(dict.fromkeys(texts))


@functools.lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return networks_parse(entries)


def address_trusted(address: str, entries: Iterable[str]) -> bool:
    """Whether a connection from ``address`` comes from one of the trusted proxies."""
    networks = _networks(tuple(entries))
    if not networks or not address:
        return False
    try:
        parsed = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False  # a Unix socket or anything else that is not an address: no one we know
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped  # a dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d
    return any(parsed in network for network in networks)


class TrustedProxyMiddleware:
    """First in ``MIDDLEWARE``: removes the forwarded headers of a request that did not come
    from a trusted proxy."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        from django.conf import settings

        if not address_trusted(request.META.get("REMOTE_ADDR", ""), settings.TRUSTED_PROXIES):
            for name in FORWARDED_HEADERS:
                request.META.pop(name, None)
        return self.get_response(request)
