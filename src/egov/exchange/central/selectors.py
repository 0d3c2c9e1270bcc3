"""Reads of the central registry."""

from __future__ import annotations

from egov.exchange.central.models import (
    AccessRight,
    ConfigurationVersion,
    Gateway,
    Member,
    Service,
    Subsystem,
)


def configuration_serial() -> int:
    """The current serial of the global configuration (0 before the first change)."""
    serial = ConfigurationVersion.objects.filter(pk=1).values_list("serial", flat=True).first()
    return int(serial or 0)


def registry_overview() -> list[str]:
    """The central registry as lines of text (``egov exchange list``), in a stable order."""
    lines = [f"configuration serial {configuration_serial()}", "", "members"]
    for member in Member.objects.select_related("gateway").prefetch_related("client_certificates"):
        lines.append(
            f"  {member.identifier}  {member.name}  connection {member.connection_type}"
            f"  gateway {member.gateway.code if member.gateway else '-'}"
            f"  certificates {len(member.client_certificates.all())}"
        )
    lines += ["", "subsystems"]
    for subsystem in Subsystem.objects.select_related("member", "gateway").prefetch_related(
        "client_certificates"
    ):
        lines.append(
            f"  {subsystem.identifier}  connection {subsystem.connection_type}"
            f"  gateway {subsystem.gateway.code if subsystem.gateway else '-'}"
            f"  certificates {len(subsystem.client_certificates.all())}"
        )
    lines += ["", "gateways"]
    for gateway in Gateway.objects.select_related("owner"):
        lines.append(
            f"  {gateway.code}  owner {gateway.owner.identifier}  address {gateway.address}"
            f"  client {gateway.client_listen or '-'} / {gateway.client_tls_listen or '-'}"
            f"  {'enabled' if gateway.enabled else 'disabled'}"
        )
    lines += ["", "services"]
    for service in Service.objects.select_related("subsystem__member"):
        lines.append(
            f"  {service.identifier}  {service.title}"
            f"{'  personal data' if service.personal_data else ''}"
            f"  backend {service.backend_url or '-'}"
        )
    lines += ["", "access rights"]
    rights = AccessRight.objects.select_related(
        "client__member", "client_member", "service__subsystem__member"
    ).prefetch_related("purposes")
    for right in sorted(rights, key=lambda item: (item.client_identifier, item.service.identifier)):
        endpoints = ", ".join(f"{item['method']} {item['path']}" for item in right.endpoints)
        purposes = ", ".join(purpose.code for purpose in right.purposes.all())
        lines.append(
            f"  {right.client_identifier} → {right.service.identifier}"
            f"  endpoints {endpoints or 'all'}  purposes {purposes or '-'}"
        )
    return lines
