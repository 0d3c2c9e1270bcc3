"""Throttling failed logins: per account and address, and per address across accounts.

django-axes locks one account from one address after ``AXES_FAILURE_LIMIT`` failures. That
does not slow password spraying: one password tried against many accounts from one address
fails only once per account. Axes compares every lockout parameter with the same limit, and
with ``ip_address`` as a parameter a successful login would wipe the address's failures, so
axes alone cannot hold a second, higher limit for an address. This handler adds it: the
failures axes already recorded from the address (every account, within the cool-off) are
summed, and at ``LOGIN_ADDRESS_FAILURE_LIMIT`` the address waits like a locked account.

An address is what one client cannot change at will: an IPv4 address, but an IPv6 client
holds a whole /64 (it picks any of its addresses), so an IPv6 address is counted by its /64
network, for both limits (:func:`client_address`, axes' ``AXES_CLIENT_IP_CALLABLE``).

The counts come from axes' own rows, which axes updates atomically (``select_for_update`` and
``F()``) in the database every web process shares; nothing is kept in a process.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import ipware.ip
from axes.attempts import get_cool_off_threshold
from axes.conf import settings
from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from django.db.models import Sum
from django.http import HttpRequest

from egov.core.logging import security_event
from egov.identity.models import User

#: ``request.egov_login_lockout`` says which limit was reached.
ACCOUNT = "account"
ADDRESS = "address"


#: An IPv6 client is counted by the network of this many leading bits.
IPV6_PREFIX = 64


def client_address(request: HttpRequest) -> str | None:
    """The client's address as axes finds it (through the configured proxies), with an IPv6
    address replaced by its /64 network ("2001:db8:7:42::")."""
    found, _routable = ipware.ip.get_client_ip(
        request,
        # axes.conf gives these settings their defaults.
        proxy_order=settings.AXES_IPWARE_PROXY_ORDER,
        proxy_count=settings.AXES_IPWARE_PROXY_COUNT,
        proxy_trusted_ips=settings.AXES_IPWARE_PROXY_TRUSTED_IPS,
        request_header_order=settings.AXES_IPWARE_META_PRECEDENCE_ORDER,
        # The client is the entry the proxies put at the header's end, however many entries
        # come before it: strictly, a client's own X-Forwarded-For ahead of them makes the
        # chain too long, and the address counted falls back to the proxy's, which every
        # person shares (a few failed logins would then pause everybody's).
        strict=False,
    )
    address = found or request.META.get("REMOTE_ADDR")
    if not address:
        return None
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return str(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, IPV6_PREFIX), strict=False).network_address)
    return str(parsed)


def address_failures(request: HttpRequest) -> int:
    """Failed logins from the request's address within the cool-off, for any account."""
    address = getattr(request, "axes_ip_address", None)
    if not address:
        return 0
    total = AccessAttempt.objects.filter(
        ip_address=address, attempt_time__gte=get_cool_off_threshold(request)
    ).aggregate(total=Sum("failures_since_start"))["total"]
    return int(total or 0)


def address_locked(request: HttpRequest) -> bool:
    return address_failures(request) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT


class LoginThrottleHandler(AxesDatabaseHandler):
    """Axes' database handler with the per-address limit added to its per-account one."""

    def is_locked(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> bool:
        if super().is_locked(request, credentials):
            request.egov_login_lockout = ACCOUNT  # type: ignore[attr-defined]
            return True
        if address_locked(request):
            request.egov_login_lockout = ADDRESS  # type: ignore[attr-defined]
            return True
        return False

    def user_login_failed(
        self,
        sender: Any,
        credentials: dict[str, Any],
        request: HttpRequest | None = None,
        **kwargs: Any,
    ) -> None:
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        if request is None:
            return
        if getattr(request, "axes_locked_out", False):
            if not getattr(request, "egov_login_lockout", None):
                request.egov_login_lockout = ACCOUNT  # type: ignore[attr-defined]
            return
        if address_locked(request):
            request.axes_locked_out = True  # type: ignore[attr-defined]
            request.axes_credentials = credentials  # type: ignore[attr-defined]
            request.egov_login_lockout = ADDRESS  # type: ignore[attr-defined]


def lockout_log(request: HttpRequest, username: str | None) -> str:
    """Record a refused login as a security event (the address and the account's id only)
    and say which limit refused it."""
    scope = getattr(request, "egov_login_lockout", None) or ACCOUNT
    if getattr(request, "egov_lockout_logged", False):
        return scope  # the view and axes' middleware both answer the same request
    request.egov_lockout_logged = True  # type: ignore[attr-defined]
    account = (
        User.objects.filter(email__iexact=username).values_list("pk", flat=True).first()
        if username
        else None
    )
    security_event(
        "login_locked_out",
        scope=scope,
        ip=getattr(request, "axes_ip_address", None) or request.META.get("REMOTE_ADDR"),
        account_id=account,
    )
    return scope
