"""``egov exchange setup``: the PKI, the central registry's data and the exchange's files, from
one YAML description of a country's exchange (``--file``; its format is
``schema/exchange-description.schema.json``, explained in ``docs/exchange-description.md``;
the demo's is ``data/demo_exchange.yaml``). The description is checked in full before
anything is written.

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

from egov.exchange.central.addresses import central_ca_resolve, central_url_resolve
from egov.exchange.central.description import description_validate
from egov.exchange.central.errors import ExchangeSetupInvalid
from egov.exchange.central.models import (
    ConnectionType,
    Gateway,
    Instance,
    Member,
    MemberClass,
    Service,
    Subsystem,
    registry_instance,
)
from egov.exchange.central.onboarding import (
    ExchangePaths,
    _current_config,
    central_certificate,
    client_certificate_issue,
    gateway_config_write,
    gateway_register,
)
from egov.exchange.central.services import access_right_grant, registry_entry_upsert
from egov.trust.pki import pki_init

logger = structlog.get_logger(__name__)

DEMO_DATA = Path(__file__).resolve().parent / "data" / "demo_exchange.yaml"
#: The demo's registries' web process; outside the demo ``--registries-url`` has no default.
DEMO_REGISTRIES_URL = "http://127.0.0.1:8001"
#: The listen addresses of a gateway in the description, and the ``--ports`` keys for them.
LISTEN_KEYS = {
    "client": "client_listen",
    "client_tls": "client_tls_listen",
    "server": "server_listen",
    "health": "health_port",
}
__all__ = [
    "DEMO_DATA",
    "DEMO_REGISTRIES_URL",
    "ExchangeSetupInvalid",
    "demo_data",
    "description_read",
    "exchange_setup",
]


def demo_data() -> dict[str, Any]:
    return dict(yaml.safe_load(DEMO_DATA.read_text(encoding="utf-8")))


def description_read(path: Path) -> Any:
    """The YAML description at ``path`` (not yet checked: :func:`exchange_setup` does)."""
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise ExchangeSetupInvalid(
            f"The exchange description {path} cannot be read: {error.strerror or error}"
        ) from None
    except yaml.YAMLError as error:
        raise ExchangeSetupInvalid(
            f"The exchange description {path} is not valid YAML: {error}"
        ) from None


def _listen(value: Any) -> str:
    """``8080`` → ``127.0.0.1:8080``; ``host:port`` is kept; none is ""."""
    if value is None or value == "":
        return ""
    return f"127.0.0.1:{value}" if isinstance(value, int) else str(value)


def _openapi(
    service: dict[str, Any],
    app: str,
    title: str,
    warn: Callable[[str], None],
    base_dir: Path | None,
) -> str:
    """The service's OpenAPI description: its own file (``openapi``, relative to the
    description), else the platform register's, else a minimal one (with a warning)."""
    if service.get("openapi"):
        return (Path(base_dir or ".") / service["openapi"]).read_text(encoding="utf-8")
    service_code = service["code"]
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
    data: Any,
    pki_dir: Path,
    exchange_dir: Path,
    registries_url: str = "",
    central_url: str | None = None,
    central_ca_file: str | None = None,
    ports: dict | None = None,
    client_tls_dir: Path | None = None,
    provider_keys_dir: Path | None = None,
    warn: Callable[[str], None] | None = None,
    base_dir: Path | None = None,
) -> None:
    """Set up the exchange described by ``data`` (see ``docs/exchange-description.md``).

    ``ports`` overrides the gateways' listen addresses: ``{"GW-PORTAL": {"client": 18080,
    "client_tls": 18090, "server": "127.0.0.1:18443", "health": 18085}}``. ``central_url``
    and ``central_ca_file`` go into every gateway's file (``None``: the settings', else the
    file's, else the demo's). The client certificates and the provider keys go to the
    settings' folders unless ``client_tls_dir`` and ``provider_keys_dir`` say otherwise;
    ``base_dir`` is the description's folder (its ``openapi`` files are relative to it)."""
    warn = warn or _warn
    description_validate(data, registries_url=registries_url, base_dir=base_dir)
    paths = ExchangePaths.from_settings(
        pki_dir=pki_dir,
        exchange_dir=exchange_dir,
        client_tls_dir=client_tls_dir,
        provider_keys_dir=provider_keys_dir,
    )
    ports = ports or {}
    instance = str(data["instance"])
    serving = registry_instance()
    if serving and serving != instance and Member.objects.exists():
        raise ExchangeSetupInvalid(
            f"The central registry serves the instance {serving}; the description is for "
            f"{instance}. The instance cannot change while members exist: set up {instance} "
            "in a fresh database."
        )
    members_data = data.get("members", [])
    gateways_data = data.get("gateways", [])

    listen: dict[str, dict[str, str]] = {}
    central: dict[str, tuple[str, str]] = {}
    for gateway in gateways_data:
        override = ports.get(gateway["code"], {})
        listen[gateway["code"]] = {
            use: _listen(override.get(use, gateway.get(key))) for use, key in LISTEN_KEYS.items()
        }
        current = _current_config(paths, gateway["code"])
        central[gateway["code"]] = (
            central_url_resolve(central_url, current=str(current.get("central_url", ""))),
            central_ca_resolve(central_ca_file, current=str(current.get("central_ca_file", ""))),
        )

    pki_init(directory=paths.pki_dir, instance=instance)
    central_certificate(pki_dir=paths.pki_dir, instance=instance)

    with transaction.atomic():
        registry_entry_upsert(Instance, lookup={}, values={"code": instance})
        for member_class in data["member_classes"]:
            registry_entry_upsert(
                MemberClass,
                lookup={"code": member_class["code"]},
                values={"description": member_class["description"]},
            )
        members: dict[str, Member] = {}
        for member in members_data:
            members[member["code"]] = registry_entry_upsert(
                Member,
                lookup={
                    "instance": instance,
                    "member_class": member["class"],
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
                health_listen=listen[code]["health"],
                address=gateway.get("address"),
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
                    backend_url = (
                        registries_url.rstrip("/") + base_path
                        if base_path
                        else str(service_data.get("base_url", ""))
                    )
                    service = registry_entry_upsert(
                        Service,
                        lookup={"subsystem": subsystem, "service_code": service_data["code"]},
                        values={
                            "title": title,
                            "personal_data": bool(service_data.get("personal_data", False)),
                            "endpoints": service_data.get("endpoints", []),
                            "openapi": _openapi(
                                service_data,
                                subsystem_data.get("app", subsystem_data["code"]),
                                title,
                                warn,
                                base_dir,
                            ),
                            "backend_url": backend_url,
                        },
                    )
                    services[service.identifier] = service
        holders = _grant(data, clients, services)
        for identifier in sorted(holders):
            client = clients[identifier]
            if client.connection_type == ConnectionType.HTTPS:
                client_certificate_issue(client=client, paths=paths)
        for code, gateway_entry in gateways.items():
            url, ca_file = central[code]
            gateway_config_write(
                gateway=gateway_entry, paths=paths, central_url=url, central_ca_file=ca_file
            )


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
