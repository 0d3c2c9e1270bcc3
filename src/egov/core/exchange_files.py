"""Where the exchange keeps a client's certificate and a provider's credential, by identifier.

Shared by ``egov exchange`` (which writes them), the gateway (which presents a provider's
credential), the platform's exchange client (which presents its subsystem's certificate) and
the registries (which check their own credential). The registries may import only the core,
so the naming rule lives here. An identifier such as ``BY/GOV/MVD/population`` becomes one
file name by percent-encoding every character outside letters, digits and ``-._``.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote


def identifier_file_stem(identifier: str) -> str:
    """``BY/GOV/MVD/population`` → ``BY%2FGOV%2FMVD%2Fpopulation`` (unambiguous, reversible)."""
    return quote(identifier, safe="")


def provider_key_path(directory: Path, provider: str) -> Path:
    """The secret a provider subsystem's gateway presents to that provider's services."""
    return Path(directory) / f"{identifier_file_stem(provider)}.key"


def client_certificate_paths(directory: Path, client: str) -> tuple[Path, Path]:
    """(certificate, private key) an information system presents for ``client`` on the
    client side of its gateway (connection type HTTPS)."""
    stem = identifier_file_stem(client)
    return Path(directory) / f"{stem}.cert.pem", Path(directory) / f"{stem}.key.pem"
