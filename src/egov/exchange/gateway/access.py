"""Whether a client may make a call, and for which purposes (ADR 0008).

Both gateways decide this independently from the same global configuration: the client
proxy early, so nothing leaves for a call that would be refused, and the server proxy again,
because it trusts nothing the calling gateway decided. A right is ``{client, service,
endpoints, purposes}``; the call must fall in the right's endpoints (none: the whole
service). A client may narrow the purpose with ``X-Egov-Purpose: <code>`` to one of the
right's codes; without it the right's purposes apply. A personal-data service is never
called under a right that declares no purpose.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from egov.exchange.endpoints import endpoints_allow
from egov.exchange.gateway.conf import GlobalConf
from egov.exchange.gateway.errors import client_error, server_proxy_error

PURPOSE_HEADER = "X-Egov-Purpose"
#: Set by the provider's gateway for the service: the purposes in effect, a JSON array.
PURPOSES_HEADER = "X-Egov-Purposes"

Purpose = dict[str, Any]


def access_decide(
    conf: GlobalConf,
    *,
    client: str,
    service: str,
    personal_data: bool,
    method: str,
    rest: str,
    requested: Sequence[str],
) -> list[Purpose]:
    """The purposes in effect for this call (the configuration's own objects, not to be
    changed), or an X-Road error: ``AccessDenied`` without a right covering the call,
    ``Client.InvalidPurpose`` for a purpose outside the right."""
    grants = conf.grants(client, service)
    if not grants:
        raise server_proxy_error("AccessDenied", f"{client} has no right to use {service}")
    covering = [grant for grant in grants if endpoints_allow(grant.endpoints, method, rest)]
    if not covering:
        raise server_proxy_error(
            "AccessDenied",
            f"{client} has no right to {method} {rest or '/'} of {service}",
        )
    purposes: list[Purpose] = []
    for grant in covering:
        for purpose in grant.purposes:
            if all(purpose.get("code") != known.get("code") for known in purposes):
                purposes.append(purpose)
    if requested:
        codes = ", ".join(str(purpose.get("code")) for purpose in purposes) or "none"
        if len(requested) > 1:
            raise client_error("InvalidPurpose", f"a request names at most one purpose ({codes})")
        chosen = [purpose for purpose in purposes if purpose.get("code") == requested[0]]
        if not chosen:
            raise client_error(
                "InvalidPurpose",
                f"{requested[0]!r} is not a purpose of the right of {client} to use {service} "
                f"(its purposes: {codes})",
            )
        purposes = chosen
    if personal_data and not purposes:
        raise server_proxy_error(
            "AccessDenied",
            f"the right of {client} to use {service} declares no purpose, which a "
            "personal-data service needs",
        )
    return purposes


def purpose_codes(purposes: Sequence[Purpose]) -> list[str]:
    return [str(purpose.get("code", "")) for purpose in purposes]
