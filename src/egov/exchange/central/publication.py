"""The global configuration the central registry publishes to the gateways: its content
(``globalconf_build``, format 2 of ADR 0008) and the envelope signed with the central-signing
key (``globalconf_signed``). The envelope format is shared with the gateways through
``egov.exchange.globalconf``. Local fields of a gateway (its listen addresses, the backend
URLs of its services) are never published."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from egov.core.errors import ApplicationError
from egov.exchange.central.models import (
    AccessRight,
    Gateway,
    Member,
    Service,
    Subsystem,
    registry_instance,
)
from egov.exchange.central.selectors import configuration_serial
from egov.exchange.globalconf import FORMAT, globalconf_sign, timestamp
from egov.trust.pki import (
    PkiError,
    ca_certificates,
    certificate_pem,
    issued_paths,
    load_certificate,
    load_private_key,
    revoked_serials,
)

CENTRAL_SIGNING = "central-signing"
CACHE_SECONDS = 30


class GlobalconfNotConfigured(ApplicationError):
    code = "not_configured"
    http_status = 503


def _pki_dir() -> Path:
    return Path(settings.PKI_DIR)


def globalconf_build() -> dict[str, Any]:
    """The content document: the registry's current state, the CA certificates and the
    revoked serials. Raises :class:`GlobalconfNotConfigured` without a PKI."""
    now = timezone.now()
    try:
        authorities = [
            certificate_pem(certificate) for certificate in ca_certificates(directory=_pki_dir())
        ]
        revoked = sorted(revoked_serials(directory=_pki_dir()))
    except PkiError:
        raise GlobalconfNotConfigured(
            _("The exchange PKI is not set up: run `egov exchange setup`.")
        ) from None
    instance = registry_instance()
    if not instance:
        raise GlobalconfNotConfigured(
            _("The central registry has no instance: run `egov exchange setup --file`.")
        )
    gateways = list(Gateway.objects.filter(enabled=True).select_related("owner"))
    enabled_gateways = {gateway.pk: gateway.code for gateway in gateways}
    members = Member.objects.prefetch_related("client_certificates")
    subsystems = Subsystem.objects.select_related("member").prefetch_related("client_certificates")
    services = Service.objects.select_related("subsystem__member")
    access_rights = AccessRight.objects.select_related(
        "client__member", "client_member", "service__subsystem__member"
    ).prefetch_related("purposes")
    content = {
        "format": FORMAT,
        "instance": instance,
        "serial": configuration_serial(),
        "generated_at": timestamp(now),
        "expires_at": timestamp(now + timedelta(seconds=settings.GLOBALCONF_VALIDITY_SECONDS)),
        "ca_certificates": authorities,
        "revoked_serials": revoked,
        "members": [
            {
                "id": member.identifier,
                "member_class": member.member_class,
                "member_code": member.member_code,
                "name": member.name,
                "gateway": enabled_gateways.get(member.gateway_id or 0),
                "connection_type": member.connection_type,
                "client_certificates": _fingerprints(member),
            }
            for member in members
        ],
        "subsystems": [
            {
                "id": subsystem.identifier,
                "member": subsystem.member.identifier,
                "subsystem_code": subsystem.code,
                "gateway": enabled_gateways.get(subsystem.gateway_id or 0),
                "connection_type": subsystem.connection_type,
                "client_certificates": _fingerprints(subsystem),
            }
            for subsystem in subsystems
        ],
        "gateways": [
            {
                "code": gateway.code,
                "owner": gateway.owner.identifier,
                "address": gateway.address,
                "tls_certificate": gateway.tls_certificate,
                "signing_certificate": gateway.signing_certificate,
            }
            for gateway in gateways
        ],
        "services": [
            {
                "id": service.identifier,
                "subsystem": service.subsystem.identifier,
                "service_code": service.service_code,
                "title": service.title,
                "personal_data": service.personal_data,
                "endpoints": service.endpoints,
                "openapi": service.openapi,
            }
            for service in services
        ],
        "access_rights": sorted(
            (
                {
                    "client": right.client_identifier,
                    "service": right.service.identifier,
                    "endpoints": right.endpoints,
                    "purposes": [purpose.as_published() for purpose in right.purposes.all()],
                }
                for right in access_rights
            ),
            key=lambda right: (right["client"], right["service"]),
        ),
    }
    return content


def _fingerprints(client: Member | Subsystem) -> list[str]:
    """Lower-case hex SHA-256 of each certificate registered for the client, sorted."""
    return sorted(certificate.fingerprint for certificate in client.client_certificates.all())


def globalconf_signed() -> dict[str, str]:
    """The signed envelope, cached for up to 30 seconds per serial and PKI index state (a
    revocation changes the index, not the serial, and must not wait for the next change)."""
    directory = _pki_dir()
    key_path, certificate_path, _chain = issued_paths(directory=directory, name=CENTRAL_SIGNING)
    try:
        index_state = (directory / "index.json").stat().st_mtime_ns
    except FileNotFoundError:
        index_state = 0
    cache_key = f"exchange:globalconf:{configuration_serial()}:{index_state}"
    envelope: dict[str, str] | None = cache.get(cache_key)
    if envelope is not None:
        return envelope
    content = globalconf_build()
    try:
        private_key = load_private_key(key_path)
        certificate = load_certificate(certificate_path)
    except (FileNotFoundError, ValueError):
        raise GlobalconfNotConfigured(
            _("The central registry has no signing key: run `egov exchange setup`.")
        ) from None
    envelope = globalconf_sign(content=content, private_key=private_key, certificate=certificate)
    cache.set(cache_key, envelope, CACHE_SECONDS)
    return envelope
