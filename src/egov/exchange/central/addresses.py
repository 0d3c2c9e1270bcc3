"""Where the gateways find the central registry: its base address (``--central-url``,
``EGOV_CENTRAL_URL``) and the CA bundle they trust for its TLS certificate (``--central-ca``,
``EGOV_CENTRAL_CA_FILE``), as written into each ``gateway.json``."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from egov.exchange.central.errors import ExchangeSetupInvalid
from egov.trust.pki import load_certificates

#: Where the central registry publishes the global configuration, under its base address.
GLOBALCONF_PATH = "/exchange/globalconf"
#: The demo's web process, which serves the central registry.
DEMO_CENTRAL_URL = "http://127.0.0.1:8000"


def central_url_normalize(url: str) -> str:
    """The global configuration's URL from the central registry's base address:
    ``https://egov.example.by`` and ``https://egov.example.by/`` become
    ``https://egov.example.by/exchange/globalconf``; a URL with a path is kept as it is."""
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ExchangeSetupInvalid(
            _(
                "The central registry's address must be an http:// or https:// URL, e.g. "
                "https://egov.example.by, not %(url)s."
            )
            % {"url": repr(url)}
        )
    if parts.path in {"", "/"}:
        parts = parts._replace(path=GLOBALCONF_PATH)
    return urlunsplit(parts)


def central_url_resolve(given: str | None, *, current: str = "") -> str:
    """The central URL a gateway's file gets: the one given (``--central-url``), else
    ``EGOV_CENTRAL_URL``, else the one the file has, else in the demo the demo's web process.
    Outside the demo, without any of them, an error names the option and the variable."""
    url = given or settings.CENTRAL_URL or current
    if not url and settings.DEMO_MODE:
        url = DEMO_CENTRAL_URL
    if not url:
        raise ExchangeSetupInvalid(
            _(
                "Give the central registry's address with --central-url or EGOV_CENTRAL_URL, "
                "e.g. https://egov.example.by (the gateways fetch the global configuration "
                "from it)."
            )
        )
    return central_url_normalize(url)


def central_ca_resolve(given: str | None, *, current: str = "") -> str:
    """The PEM bundle a gateway trusts for the central registry's TLS certificate: the one
    given (``--central-ca``; "" for the system's trust store), else ``EGOV_CENTRAL_CA_FILE``,
    else the one the file has. Returned as an absolute path, checked to hold certificates."""
    value = given if given is not None else (settings.CENTRAL_CA_FILE or current)
    if not value:
        return ""
    path = Path(value).resolve()
    try:
        load_certificates(path)
    except (OSError, ValueError) as error:
        raise ExchangeSetupInvalid(
            _(
                "The central registry's CA file %(path)s cannot be used: %(reason)s. Give a "
                "PEM file of CA certificates with --central-ca or EGOV_CENTRAL_CA_FILE."
            )
            % {"path": path, "reason": getattr(error, "strerror", None) or error}
        ) from None
    return str(path)
