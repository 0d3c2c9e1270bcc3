"""``egov exchange setup``: the PKI, the central registry's data and the exchange's files, from
one YAML description (the demo's is ``data/demo_exchange.yaml``).

It uses the same functions as the ``egov exchange`` subcommands (``onboarding.py``) and so
writes the same files: each gateway's ``gateway.json`` with a key per provider subsystem it
hosts, and an information-system certificate for every HTTPS client that holds a right.

Idempotent: certificates are issued only when missing (or revoked), keys only when missing,
rows are created or brought up to date, and nothing changes — not even the configuration
serial or a file's bytes — when the description and the files already agree.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import structlog
import yaml
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from egov.exchange.central.models import (
    INSTANCE,
    ConnectionType,
    Gateway,
    Member,
    Service,
    Subsystem,
)
from egov.exchange.central.onboarding import (
    DEFAULT_CENTRAL_URL,
    ExchangePaths,
    ExchangeSetupInvalid,
    central_certificate,
    client_certificate_issue,
    gateway_config_write,
    gateway_register,
)
from egov.exchange.central.services import access_right_grant, registry_entry_upsert
from egov.trust.pki import pki_init

logger = structlog.get_logger(__name__)

DEMO_DATA = Path(__file__).resolve().parent / "data" / "demo_exchange.yaml"
DEFAULT_REGISTRIES_URL = "http://127.0.0.1:8001"
__all__ = [
    "DEFAULT_CENTRAL_URL",
    "DEFAULT_REGISTRIES_URL",
    "DEMO_DATA",
    "ExchangeSetupInvalid",
    "demo_data",
    "exchange_setup",
]


def demo_data() -> dict[str, Any]:
    return dict(yaml.safe_load(DEMO_DATA.read_text(encoding="utf-8")))


def _listen(value: Any) -> str:
    """``8080`` → ``127.0.0.1:8080``; ``host:port`` is kept."""
    return f"127.0.0.1:{value}" if isinstance(value, int) else str(value)


def _openapi(app: str, service_code: str, title: str, warn: Callable[[str], None]) -> str:
    path = Path(settings.PACKAGE_DIR) / "registries" / app / "openapi" / f"{service_code}.yaml"
    if path.is_file():
        return path.read_text(encoding="utf-8")
    warn(f"{path} is missing: the service {service_code} gets a minimal OpenAPI description")
    return yaml.safe_dump(
        {"openapi": "3.1.0", "info": {"title": title, "version": "1"}, "paths": {}},
        sort_keys=False,
        allow_unicode=True,
    )


def _warn(message: str) -> None:
    logger.warning("exchange.setup_warning", detail=message)


def exchange_setup(
    *,
    data: dict,
    pki_dir: Path,
    exchange_dir: Path,
    registries_url: str,
    central_url: str,
    ports: dict | None,
    client_tls_dir: Path | None = None,
    provider_keys_dir: Path | None = None,
    warn: Callable[[str], None] | None = None,
) -> None:
    """Set up the exchange described by ``data`` (see ``data/demo_exchange.yaml``).

    ``ports`` overrides the gateways' listen addresses: ``{"GW-PORTAL": {"client": 18080,
    "client_tls": 18090, "server": "127.0.0.1:18443"}}``. The client certificates and the
    provider keys go to the settings' folders unless ``client_tls_dir`` and
    ``provider_keys_dir`` say otherwise."""
    warn = warn or _warn
    paths = ExchangePaths.from_settings(
        pki_dir=pki_dir,
        exchange_dir=exchange_dir,
        client_tls_dir=client_tls_dir,
        provider_keys_dir=provider_keys_dir,
    )
    ports = ports or {}
    instance = data.get("instance", INSTANCE)
    if instance != INSTANCE:
        raise ExchangeSetupInvalid(_("Only the instance BY is supported."))
    members_data = data.get("members", [])
    gateways_data = data.get("gateways", [])

    pki_init(directory=paths.pki_dir, instance=instance)
    central_certificate(pki_dir=paths.pki_dir)

    listen: dict[str, dict[str, str]] = {}
    for gateway in gateways_data:
        override = ports.get(gateway["code"], {})
        listen[gateway["code"]] = {
            use: _listen(override.get(use, gateway.get(f"{use}_listen", "")))
            for use in ("client", "client_tls", "server")
        }

    with transaction.atomic():
        members: dict[str, Member] = {}
        for member in members_data:
            members[member["code"]] = registry_entry_upsert(
                Member,
                lookup={
                    "instance": instance,
                    "member_class": member.get("class", "GOV"),
                    "member_code": member["code"],
                },
                values={
                    "name": member["name"],
                    "connection_type": member.get("connection_type", ConnectionType.HTTPS),
                },
            )
        gateways: dict[str, Gateway] = {}
        for gateway in gateways_data:
            code = gateway["code"]
            if gateway["owner"] not in members:
                raise ExchangeSetupInvalid(
                    _("The gateway %(code)s names an unknown owner %(owner)s.")
                    % {"code": code, "owner": gateway["owner"]}
                )
            gateways[code] = gateway_register(
                code=code,
                owner=members[gateway["owner"]],
                client_listen=listen[code]["client"],
                client_tls_listen=listen[code]["client_tls"],
                server_listen=listen[code]["server"],
                enabled=bool(gateway.get("enabled", True)),
                paths=paths,
            )
        clients: dict[str, Subsystem | Member] = {}
        services: dict[str, Service] = {}
        for member in members_data:
            entry = members[member["code"]]
            if member.get("gateway"):
                entry = registry_entry_upsert(
                    Member,
                    lookup={"pk": entry.pk},
                    values={"gateway": _gateway(gateways, member["gateway"], member["code"])},
                )
            clients[entry.identifier] = entry
            for subsystem_data in member.get("subsystems", []):
                gateway_code = subsystem_data.get("gateway")
                subsystem = registry_entry_upsert(
                    Subsystem,
                    lookup={"member": entry, "code": subsystem_data["code"]},
                    values={
                        "gateway": _gateway(gateways, gateway_code, subsystem_data["code"])
                        if gateway_code
                        else None,
                        "connection_type": subsystem_data.get(
                            "connection_type", ConnectionType.HTTPS
                        ),
                    },
                )
                clients[subsystem.identifier] = subsystem
                for service_data in subsystem_data.get("services", []):
                    title = service_data.get("title", service_data["code"])
                    base_path = service_data.get("base_path")
                    service = registry_entry_upsert(
                        Service,
                        lookup={"subsystem": subsystem, "service_code": service_data["code"]},
                        values={
                            "title": title,
                            "personal_data": bool(service_data.get("personal_data", False)),
                            "endpoints": service_data.get("endpoints", []),
                            "openapi": _openapi(
                                subsystem_data.get("app", subsystem_data["code"]),
                                service_data["code"],
                                title,
                                warn,
                            ),
                            "backend_url": registries_url.rstrip("/") + base_path
                            if base_path
                            else "",
                        },
                    )
                    services[service.identifier] = service
        holders = _grant(data, clients, services)
        for identifier in sorted(holders):
            client = clients[identifier]
            if client.connection_type == ConnectionType.HTTPS:
                client_certificate_issue(client=client, paths=paths)
        for gateway_entry in gateways.values():
            gateway_config_write(gateway=gateway_entry, paths=paths, central_url=central_url)


def _gateway(gateways: dict[str, Gateway], code: str, named_by: str) -> Gateway:
    if code not in gateways:
        raise ExchangeSetupInvalid(
            _("The subsystem %(code)s names an unknown gateway %(gateway)s.")
            % {"code": named_by, "gateway": code}
        )
    return gateways[code]


def _grant(
    data: dict, clients: dict[str, Subsystem | Member], services: dict[str, Service]
) -> set[str]:
    """Grant the description's rights; returns the clients that hold one."""
    purposes_data = data.get("purposes", {})
    holders: set[str] = set()
    for group in data.get("access_rights", []):
        unknown = [code for code in group.get("purposes", []) if code not in purposes_data]
        if unknown:
            raise ExchangeSetupInvalid(
                _("The access rights name unknown purposes: %(codes)s.")
                % {"codes": ", ".join(unknown)}
            )
        purposes = [{"code": code, **purposes_data[code]} for code in group.get("purposes", [])]
        for client in group.get("clients") or [group["client"]]:
            for name in group.get("services") or [group["service"]]:
                if client not in clients or name not in services:
                    raise ExchangeSetupInvalid(
                        _(
                            "The access right %(client)s → %(service)s names an unknown "
                            "subsystem or service."
                        )
                        % {"client": client, "service": name}
                    )
                access_right_grant(
                    client=clients[client],
                    service=services[name],
                    endpoints=list(group.get("endpoints", [])),
                    purposes=purposes,
                )
                holders.add(client)
    return holders
