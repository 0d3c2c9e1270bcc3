"""``egov exchange setup``: the PKI, the central registry's data and the gateways' local
configuration, from one YAML description (the demo's is ``data/demo_exchange.yaml``).

Idempotent: certificates are issued only when missing (or revoked), rows are created or
brought up to date, and nothing changes — not even the configuration serial — when the
description and the files already agree.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from egov.core.errors import ApplicationError
from egov.exchange.central.models import (
    INSTANCE,
    Gateway,
    Member,
    Service,
    Subsystem,
)
from egov.exchange.central.publication import CENTRAL_SIGNING
from egov.exchange.central.services import access_right_grant, registry_entry_upsert
from egov.trust.pki import (
    IssuedCertificate,
    certificate_current,
    certificate_issue,
    pki_init,
)

logger = logging.getLogger("egov.exchange.setup")

DEMO_DATA = Path(__file__).resolve().parent / "data" / "demo_exchange.yaml"
DEFAULT_REGISTRIES_URL = "http://127.0.0.1:8001"
DEFAULT_CENTRAL_URL = "http://127.0.0.1:8000/exchange/globalconf"


class ExchangeSetupInvalid(ApplicationError):
    code = "exchange_setup_invalid"
    http_status = 400


def demo_data() -> dict[str, Any]:
    return dict(yaml.safe_load(DEMO_DATA.read_text(encoding="utf-8")))


def _certificate(
    *,
    pki_dir: Path,
    name: str,
    profile: str,
    common_name: str,
    organization: str = "",
    ip_addresses: tuple[str, ...] = (),
    dns_names: tuple[str, ...] = (),
) -> IssuedCertificate:
    current = certificate_current(directory=pki_dir, name=name)
    if current is not None:
        return current
    return certificate_issue(
        directory=pki_dir,
        profile=profile,
        common_name=common_name,
        organization=organization,
        ip_addresses=ip_addresses,
        dns_names=dns_names,
        name=name,
    )


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


def _write_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)


def exchange_setup(
    *,
    data: dict,
    pki_dir: Path,
    exchange_dir: Path,
    registries_url: str,
    central_url: str,
    ports: dict | None,
    service_key_file: Path | None = None,
    warn: Callable[[str], None] | None = None,
) -> None:
    """Set up the exchange described by ``data`` (see ``data/demo_exchange.yaml``).

    ``ports`` overrides the gateways' listen addresses: ``{"GW-PORTAL": {"client": 18080,
    "server": "127.0.0.1:18443"}}``. ``service_key_file`` defaults to the data folder's
    ``exchange_service_key``."""
    warn = warn or logger.warning
    pki_dir = Path(pki_dir).resolve()
    exchange_dir = Path(exchange_dir).resolve()
    service_key_file = Path(
        service_key_file or Path(settings.DATA_DIR) / "exchange_service_key"
    ).resolve()
    ports = ports or {}
    instance = data.get("instance", INSTANCE)
    if instance != INSTANCE:
        raise ExchangeSetupInvalid(_("Only the instance BY is supported."))
    members_data = data.get("members", [])
    gateways_data = data.get("gateways", [])

    pki_init(directory=pki_dir, instance=instance)
    central = _certificate(
        pki_dir=pki_dir,
        name=CENTRAL_SIGNING,
        profile="central-signing",
        common_name=f"{instance} exchange central registry",
        organization="egov",
    )
    gateway_certificates: dict[str, tuple[IssuedCertificate, IssuedCertificate]] = {}
    for gateway in gateways_data:
        code = gateway["code"]
        gateway_certificates[code] = (
            _certificate(
                pki_dir=pki_dir,
                name=f"{code}-tls",
                profile="gateway-tls",
                common_name=code,
                organization=gateway["owner"],
                ip_addresses=("127.0.0.1",),
                dns_names=("localhost",),
            ),
            _certificate(
                pki_dir=pki_dir,
                name=f"{code}-signing",
                profile="gateway-signing",
                common_name=f"{code} signing",
                organization=gateway["owner"],
            ),
        )

    listen: dict[str, tuple[str, str]] = {}
    for gateway in gateways_data:
        override = ports.get(gateway["code"], {})
        listen[gateway["code"]] = (
            _listen(override.get("client", gateway["client_listen"])),
            _listen(override.get("server", gateway["server_listen"])),
        )

    backends: dict[str, dict[str, str]] = {gateway["code"]: {} for gateway in gateways_data}
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
                values={"name": member["name"]},
            )
        gateways: dict[str, Gateway] = {}
        for gateway in gateways_data:
            code = gateway["code"]
            if gateway["owner"] not in members:
                raise ExchangeSetupInvalid(
                    _("The gateway %(code)s names an unknown owner %(owner)s.")
                    % {"code": code, "owner": gateway["owner"]}
                )
            tls, signing = gateway_certificates[code]
            gateways[code] = registry_entry_upsert(
                Gateway,
                lookup={"code": code},
                values={
                    "owner": members[gateway["owner"]],
                    "address": f"https://{listen[code][1]}",
                    "tls_certificate": tls.certificate_path.read_text(encoding="ascii"),
                    "signing_certificate": signing.certificate_path.read_text(encoding="ascii"),
                    "enabled": bool(gateway.get("enabled", True)),
                },
            )
        subsystems: dict[str, Subsystem] = {}
        services: dict[str, Service] = {}
        for member in members_data:
            for subsystem_data in member.get("subsystems", []):
                gateway_code = subsystem_data.get("gateway")
                if gateway_code and gateway_code not in gateways:
                    raise ExchangeSetupInvalid(
                        _("The subsystem %(code)s names an unknown gateway %(gateway)s.")
                        % {"code": subsystem_data["code"], "gateway": gateway_code}
                    )
                subsystem = registry_entry_upsert(
                    Subsystem,
                    lookup={"member": members[member["code"]], "code": subsystem_data["code"]},
                    values={
                        "gateway": gateways[gateway_code] if gateway_code else None,
                        "connection_type": subsystem_data.get("connection_type", "HTTPS"),
                    },
                )
                subsystems[subsystem.identifier] = subsystem
                for service_data in subsystem_data.get("services", []):
                    title = service_data.get("title", service_data["code"])
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
                        },
                    )
                    services[service.identifier] = service
                    if gateway_code and service_data.get("base_path"):
                        backends[gateway_code][service.identifier] = (
                            registries_url.rstrip("/") + service_data["base_path"]
                        )
        purposes_data = data.get("purposes", {})
        for group in data.get("access_rights", []):
            clients = group.get("clients") or [group["client"]]
            names = group.get("services") or [group["service"]]
            unknown = [code for code in group.get("purposes", []) if code not in purposes_data]
            if unknown:
                raise ExchangeSetupInvalid(
                    _("The access rights name unknown purposes: %(codes)s.")
                    % {"codes": ", ".join(unknown)}
                )
            purposes = [{"code": code, **purposes_data[code]} for code in group.get("purposes", [])]
            for client in clients:
                for name in names:
                    if client not in subsystems or name not in services:
                        raise ExchangeSetupInvalid(
                            _(
                                "The access right %(client)s → %(service)s names an unknown "
                                "subsystem or service."
                            )
                            % {"client": client, "service": name}
                        )
                    access_right_grant(
                        client=subsystems[client],
                        service=services[name],
                        endpoints=list(group.get("endpoints", [])),
                        purposes=purposes,
                    )

    authorities = [str(pki_dir / "root.cert.pem"), str(pki_dir / "issuing.cert.pem")]
    for gateway in gateways_data:
        code = gateway["code"]
        tls, signing = gateway_certificates[code]
        folder = exchange_dir / code
        (folder / "messagelog").mkdir(parents=True, exist_ok=True)
        _write_json(
            folder / "gateway.json",
            {
                "code": code,
                "instance": instance,
                "client_listen": listen[code][0],
                "server_listen": listen[code][1],
                "central_url": central_url,
                "anchor": str(central.certificate_path),
                "tls_key": str(tls.key_path),
                "tls_certificate": str(tls.certificate_path),
                "signing_key": str(signing.key_path),
                "signing_certificate": str(signing.certificate_path),
                "ca_certificates": authorities,
                "services": dict(sorted(backends[code].items())),
                "service_key_file": str(service_key_file),
                "cache_file": str(folder / "globalconf.json"),
                "log_dir": str(folder / "messagelog"),
            },
        )
