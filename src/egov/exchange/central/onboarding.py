"""Joining the exchange without code: the use cases behind the ``egov exchange`` subcommands
(and the demo's ``egov exchange setup``, which calls the same functions).

Each use case changes the central registry in one transaction and writes its files — a
client's certificate and key, a provider's key, a gateway's ``gateway.json`` — inside that
transaction, each file atomically, so a failure leaves neither rows nor files half-written.
Certificates are issued by the platform PKI only when the name has none in force, so running
a use case again changes nothing.

Files (ADR 0008, named by :mod:`egov.core.exchange_files`):

- ``<client TLS dir>/<client>.cert.pem`` and ``.key.pem`` (0600): the certificate an
  information system presents for a client of connection type HTTPS;
- ``<provider keys dir>/<provider subsystem>.key`` (0600): the secret a provider's gateway
  presents to that provider's services, and to no one else's;
- ``<exchange dir>/<gateway code>/gateway.json``: a gateway's own configuration.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import structlog
import yaml
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from egov.core.exchange_files import (
    client_certificate_paths,
    identifier_file_stem,
    provider_key_path,
)
from egov.exchange.central.addresses import central_ca_resolve, central_url_resolve
from egov.exchange.central.errors import ExchangeSetupInvalid
from egov.exchange.central.lookups import (
    client_get,
    client_parse,
    endpoint_parse,
    gateway_get,
    identifier_form,
    instance_required,
    member_get,
    service_get,
)
from egov.exchange.central.models import (
    ConnectionType,
    Gateway,
    Member,
    Service,
    Subsystem,
    registry_instance,
)
from egov.exchange.central.publication import CENTRAL_SIGNING
from egov.exchange.central.selectors import configuration_serial
from egov.exchange.central.services import (
    Purpose,
    RegistryEntryInvalid,
    access_right_grant,
    access_right_revoke,
    client_certificate_add,
    registry_entry_upsert,
)
from egov.exchange.central.validators import openapi_endpoints
from egov.trust.pki import (
    IssuedCertificate,
    PkiError,
    certificate_current,
    certificate_issue,
    load_certificate,
)
from egov.trust.tsa import tsa_url_for

logger = structlog.get_logger(__name__)

OPENAPI_MAX_BYTES = 5 * 1024 * 1024
OPENAPI_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class ExchangePaths:
    """Where the exchange's files live; by default the folders the settings name."""

    pki_dir: Path
    exchange_dir: Path
    client_tls_dir: Path
    provider_keys_dir: Path

    @classmethod
    def from_settings(
        cls,
        *,
        pki_dir: Path | None = None,
        exchange_dir: Path | None = None,
        client_tls_dir: Path | None = None,
        provider_keys_dir: Path | None = None,
    ) -> ExchangePaths:
        return cls(
            pki_dir=Path(pki_dir or settings.PKI_DIR).resolve(),
            exchange_dir=Path(exchange_dir or settings.EXCHANGE_DIR).resolve(),
            client_tls_dir=Path(client_tls_dir or settings.EXCHANGE_CLIENT_TLS_DIR).resolve(),
            provider_keys_dir=Path(
                provider_keys_dir or settings.EXCHANGE_PROVIDER_KEYS_DIR
            ).resolve(),
        )


@dataclass(frozen=True)
class Outcome:
    """What a use case did: the entry, whether the registry changed, the files written."""

    entry: Any
    changed: bool
    files: tuple[Path, ...] = ()


# --- files -----------------------------------------------------------------------------------


def write_file(path: Path, data: bytes, *, mode: int = 0o644) -> bool:
    """Write ``path`` atomically with ``mode``; returns False (and writes nothing) when it
    already holds exactly ``data`` with that mode."""
    try:
        if path.read_bytes() == data and (path.stat().st_mode & 0o777) == mode:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(descriptor, mode)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True


def provider_key_ensure(*, directory: Path, provider: str) -> Path:
    """The provider's key file, created (0600, 256 random bits) if missing; never replaced,
    since the provider's services check it."""
    path = provider_key_path(directory, provider)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(secrets.token_urlsafe(32) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    logger.info("exchange.provider_key_created", provider=provider)
    return path


def _issued(
    *,
    pki_dir: Path,
    name: str,
    profile: str,
    common_name: str,
    organization: str = "",
    ip_addresses: Sequence[str] = (),
    dns_names: Sequence[str] = (),
) -> IssuedCertificate:
    """The certificate in force under ``name``, issued when there is none (or it was
    revoked)."""
    current = certificate_current(directory=pki_dir, name=name)
    if current is not None:
        return current
    return certificate_issue(
        directory=pki_dir,
        profile=profile,
        common_name=common_name,
        organization=organization,
        ip_addresses=tuple(ip_addresses),
        dns_names=tuple(dns_names),
        name=name,
    )


def central_certificate(*, pki_dir: Path, instance: str = "") -> IssuedCertificate:
    """The central registry's signing certificate (the gateways' anchor)."""
    return _issued(
        pki_dir=pki_dir,
        name=CENTRAL_SIGNING,
        profile="central-signing",
        common_name=f"{instance or registry_instance() or 'egov'} exchange central registry",
        organization="egov",
    )


def ocsp_responder_certificate(*, pki_dir: Path, instance: str = "") -> IssuedCertificate:
    """The platform OCSP responder's certificate: the gateways this set-up configures ask
    /trust/ocsp about each other's certificates, so the responder must be able to answer
    (`egov trust setup` issues the same certificate under the same name)."""
    return _issued(
        pki_dir=pki_dir,
        name="ocsp",
        profile="ocsp-responder",
        common_name=f"{instance or registry_instance() or 'egov'} egov OCSP responder",
        organization="egov",
    )


def client_certificate_issue(*, client: Subsystem | Member, paths: ExchangePaths) -> Outcome:
    """Issue (when none is in force) an ``information-system`` certificate for ``client``,
    copy it and its key into the client TLS folder and register it. Call inside the
    transaction of the change."""
    name = f"client-{identifier_file_stem(client.identifier)}"
    member = client.member if isinstance(client, Subsystem) else client
    issued = _issued(
        pki_dir=paths.pki_dir,
        name=name,
        profile="information-system",
        common_name=client.identifier,
        organization=member.name[:64],
    )
    certificate_target, key_target = client_certificate_paths(
        paths.client_tls_dir, client.identifier
    )
    serial = configuration_serial()
    certificate = issued.certificate_path.read_bytes()
    client_certificate_add(client=client, certificate=certificate.decode("ascii"))
    paths.client_tls_dir.mkdir(parents=True, exist_ok=True)
    written = [
        path
        for path, data, mode in (
            (key_target, issued.key_path.read_bytes(), 0o600),
            (certificate_target, certificate, 0o644),
        )
        if write_file(path, data, mode=mode)
    ]
    return Outcome(
        entry=(certificate_target, key_target),
        changed=configuration_serial() != serial,
        files=tuple(written),
    )


def openapi_fetch(source: str, *, timeout: float = OPENAPI_TIMEOUT_SECONDS) -> str:
    """An OpenAPI document from a file or an http(s) URL (fetched with ``timeout``)."""
    if urlsplit(source).scheme in {"http", "https"}:
        try:
            with urllib.request.urlopen(source, timeout=timeout) as response:  # noqa: S310
                data = response.read(OPENAPI_MAX_BYTES + 1)
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ExchangeSetupInvalid(
                _("The OpenAPI description could not be fetched from %(url)s: %(reason)s")
                % {"url": source, "reason": reason}
            ) from None
        if len(data) > OPENAPI_MAX_BYTES:
            raise ExchangeSetupInvalid(
                _("The OpenAPI description at %(url)s is larger than 5 MiB.") % {"url": source}
            )
    else:
        try:
            data = Path(source).read_bytes()
        except OSError as error:
            raise ExchangeSetupInvalid(
                _("The OpenAPI description %(path)s cannot be read: %(reason)s")
                % {"path": source, "reason": error.strerror or error}
            ) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ExchangeSetupInvalid(
            _("The OpenAPI description %(source)s is not UTF-8 text.") % {"source": source}
        ) from None


# --- use cases -------------------------------------------------------------------------------


def _given(*, connection_type: str | None, gateway: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if connection_type is not None:
        values["connection_type"] = connection_type
    if gateway is not None:
        values["gateway"] = gateway_get(gateway)
    return values


def _changed_since(serial: int) -> bool:
    return configuration_serial() != serial


def _client_certificates(
    *,
    client: Subsystem | Member,
    certificates: Sequence[str],
    issue_certificate: bool,
    paths: ExchangePaths,
) -> list[Path]:
    if (certificates or issue_certificate) and client.connection_type != ConnectionType.HTTPS:
        raise ExchangeSetupInvalid(
            _(
                "A client certificate is for the connection type HTTPS; %(client)s connects "
                "over %(type)s."
            )
            % {"client": client.identifier, "type": client.connection_type}
        )
    for certificate in certificates:
        client_certificate_add(client=client, certificate=certificate)
    if issue_certificate:
        return list(client_certificate_issue(client=client, paths=paths).files)
    return []


def member_add(
    *,
    identifier: str,
    name: str,
    connection_type: str | None = None,
    gateway: str | None = None,
    certificates: Sequence[str] = (),
    issue_certificate: bool = False,
    paths: ExchangePaths | None = None,
) -> Outcome:
    """Register a member (or bring the values given up to date; the others stay, or take
    their defaults for a new member). ``gateway``, ``connection_type`` and the certificates
    matter when the member calls services without a subsystem."""
    member_class, member_code, subsystem_code = client_parse(identifier)
    if subsystem_code:
        raise ExchangeSetupInvalid(
            _("%(identifier)s names a subsystem: a member is %(form)s.")
            % {"identifier": identifier, "form": identifier_form()}
        )
    paths = paths or ExchangePaths.from_settings()
    serial = configuration_serial()
    with transaction.atomic():
        member = registry_entry_upsert(
            Member,
            lookup={
                "instance": instance_required(),
                "member_class": member_class,
                "member_code": member_code,
            },
            values={
                "name": name,
                **_given(connection_type=connection_type, gateway=gateway),
            },
        )
        files = _client_certificates(
            client=member,
            certificates=certificates,
            issue_certificate=issue_certificate,
            paths=paths,
        )
    logger.info("exchange.member_added", member=member.identifier)
    return Outcome(member, _changed_since(serial), tuple(files))


def subsystem_add(
    *,
    identifier: str,
    gateway: str | None = None,
    connection_type: str | None = None,
    certificates: Sequence[str] = (),
    issue_certificate: bool = False,
    paths: ExchangePaths | None = None,
) -> Outcome:
    """Register a subsystem of a registered member (or bring the values given up to date),
    hosted by ``gateway``, with its connection type (HTTPS unless given) and client
    certificates (given, or issued by the platform PKI into the client TLS folder)."""
    member_class, member_code, subsystem_code = client_parse(identifier)
    if not subsystem_code:
        raise ExchangeSetupInvalid(
            _("%(identifier)s names a member: a subsystem is %(form)s.")
            % {"identifier": identifier, "form": identifier_form("/SUBSYSTEM")}
        )
    member = member_get(f"{instance_required()}/{member_class}/{member_code}")
    paths = paths or ExchangePaths.from_settings()
    serial = configuration_serial()
    with transaction.atomic():
        subsystem = registry_entry_upsert(
            Subsystem,
            lookup={"member": member, "code": subsystem_code},
            values=_given(connection_type=connection_type, gateway=gateway),
        )
        files = _client_certificates(
            client=subsystem,
            certificates=certificates,
            issue_certificate=issue_certificate,
            paths=paths,
        )
    logger.info("exchange.subsystem_added", subsystem=subsystem.identifier)
    return Outcome(subsystem, _changed_since(serial), tuple(files))


def service_add(
    *,
    identifier: str,
    openapi: str,
    base_url: str,
    personal_data: bool = False,
    title: str | None = None,
) -> Outcome:
    """Register a provider's service (or bring it up to date) from its OpenAPI document: the
    endpoints come from its paths, the title from ``info.title`` unless given. ``base_url``
    is where the provider's gateway forwards the calls (written into its gateway.json)."""
    provider, _separator, service_code = identifier.rpartition("/")
    subsystem = client_get(provider) if provider.count("/") == 3 else None
    if not isinstance(subsystem, Subsystem):
        raise ExchangeSetupInvalid(
            _("%(identifier)s is not a service identifier (%(form)s).")
            % {"identifier": identifier, "form": identifier_form("/SUBSYSTEM/SERVICE")}
        )
    document = yaml.safe_load(openapi) if openapi.strip() else None
    info = document.get("info") if isinstance(document, dict) else None
    described_title = info.get("title") if isinstance(info, dict) else None
    serial = configuration_serial()
    service = registry_entry_upsert(
        Service,
        lookup={"subsystem": subsystem, "service_code": service_code},
        values={
            "title": str(title or described_title or service_code)[:300],
            "personal_data": personal_data,
            "endpoints": openapi_endpoints(openapi),
            "openapi": openapi,
            "backend_url": base_url,
        },
    )
    logger.info("exchange.service_added", service=service.identifier)
    return Outcome(service, _changed_since(serial))


def right_grant(
    *,
    client: str,
    service: str,
    endpoints: Sequence[str] = (),
    purposes: Sequence[Purpose] = (),
) -> Outcome:
    """Let ``client`` call ``service`` (only ``endpoints``, e.g. ``"GET /persons/*"``, when
    given) for ``purposes``; the right's endpoints and purposes become exactly these."""
    serial = configuration_serial()
    right = access_right_grant(
        client=client_get(client),
        service=service_get(service),
        endpoints=[endpoint_parse(endpoint) for endpoint in endpoints],
        purposes=list(purposes),
    )
    logger.info("exchange.right_granted", client=client, service=service)
    return Outcome(right, _changed_since(serial))


def right_revoke(*, client: str, service: str) -> Outcome:
    serial = configuration_serial()
    access_right_revoke(client=client_get(client), service=service_get(service))
    return Outcome(None, _changed_since(serial))


def _hosts(*addresses: str) -> tuple[list[str], list[str]]:
    """IP addresses and DNS names for a gateway's TLS certificate: the hosts of its address
    and listen addresses (not wildcards), and loopback for local checks."""
    ips, names = ["127.0.0.1"], ["localhost"]
    for address in addresses:
        if not address:
            continue
        host = urlsplit(address if "://" in address else f"//{address}").hostname or ""
        if not host:
            continue
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            if host not in names:
                names.append(host)
            continue
        if not ip.is_unspecified and str(ip) not in ips:
            ips.append(str(ip))
    return ips, names


def _gateway_values(
    *,
    code: str,
    owner: Member,
    client_listen: str,
    client_tls_listen: str,
    server_listen: str,
    health_listen: str,
    address: str | None,
    enabled: bool,
) -> dict[str, Any]:
    """The gateway's values, checked before any certificate is issued."""
    values = {
        "owner": owner,
        "address": address or f"https://{server_listen}",
        "enabled": enabled,
        "client_listen": client_listen,
        "client_tls_listen": client_tls_listen,
        "server_listen": server_listen,
        "health_listen": health_listen,
    }
    try:
        Gateway(code=code, **values).clean_fields(
            exclude=["tls_certificate", "signing_certificate"]
        )
    except ValidationError as error:
        raise RegistryEntryInvalid(error) from None
    return values


def gateway_register(
    *,
    code: str,
    owner: Member,
    client_listen: str,
    client_tls_listen: str,
    server_listen: str,
    health_listen: str = "",
    address: str | None = None,
    enabled: bool = True,
    paths: ExchangePaths,
) -> Gateway:
    """Issue the gateway's TLS and signing certificates (when none are in force) and
    register it or bring it up to date. Call inside the transaction of the change."""
    values = _gateway_values(
        code=code,
        owner=owner,
        client_listen=client_listen,
        client_tls_listen=client_tls_listen,
        server_listen=server_listen,
        health_listen=health_listen,
        address=address,
        enabled=enabled,
    )
    address = str(values["address"])
    ips, names = _hosts(address, client_tls_listen, server_listen)
    tls = _issued(
        pki_dir=paths.pki_dir,
        name=f"{code}-tls",
        profile="gateway-tls",
        common_name=code,
        organization=owner.member_code,
        ip_addresses=ips,
        dns_names=names,
    )
    signing = _issued(
        pki_dir=paths.pki_dir,
        name=f"{code}-signing",
        profile="gateway-signing",
        common_name=f"{code} signing",
        organization=owner.member_code,
    )
    return registry_entry_upsert(
        Gateway,
        lookup={"code": code},
        values={
            **values,
            "tls_certificate": tls.certificate_path.read_text(encoding="ascii"),
            "signing_certificate": signing.certificate_path.read_text(encoding="ascii"),
        },
    )


def gateway_add(
    *,
    code: str,
    owner: str,
    client_listen: str,
    client_tls_listen: str,
    server_listen: str,
    health_listen: str = "",
    address: str | None = None,
    central_url: str | None = None,
    central_ca_file: str | None = None,
    paths: ExchangePaths | None = None,
) -> Outcome:
    """Register a gateway of ``owner`` (a member), with its certificates, and write its
    gateway.json (its services and provider keys follow with ``gateway write-config``)."""
    paths = paths or ExchangePaths.from_settings()
    member = member_get(owner)
    _gateway_values(
        code=code,
        owner=member,
        client_listen=client_listen,
        client_tls_listen=client_tls_listen,
        server_listen=server_listen,
        health_listen=health_listen,
        address=address,
        enabled=True,
    )
    current = _current_config(paths, code)
    central_url = central_url_resolve(central_url, current=current.get("central_url", ""))
    central_ca_file = central_ca_resolve(
        central_ca_file, current=current.get("central_ca_file", "")
    )
    serial = configuration_serial()
    try:
        with transaction.atomic():
            gateway = gateway_register(
                code=code,
                owner=member,
                client_listen=client_listen,
                client_tls_listen=client_tls_listen,
                server_listen=server_listen,
                health_listen=health_listen,
                address=address,
                paths=paths,
            )
            central_certificate(pki_dir=paths.pki_dir)
            files = gateway_config_write(
                gateway=gateway,
                paths=paths,
                central_url=central_url,
                central_ca_file=central_ca_file,
            )
    except PkiError as error:
        raise ExchangeSetupInvalid(
            _("The PKI cannot issue the gateway's certificates: %(error)s") % {"error": error}
        ) from None
    logger.info("exchange.gateway_added", gateway=code)
    return Outcome(gateway, _changed_since(serial), files)


def _registered_certificate(
    gateway: Gateway, use: str, registered: str, paths: ExchangePaths
) -> IssuedCertificate:
    """The PKI's certificate in force for the gateway's ``use``, if it is the one registered."""
    name = f"{gateway.code}-{use}"
    issued = certificate_current(directory=paths.pki_dir, name=name)
    if issued is None or load_certificate(issued.certificate_path) != load_certificate(
        registered.encode("ascii")
    ):
        raise ExchangeSetupInvalid(
            _(
                "The PKI in %(pki)s has no certificate %(name)s in force that matches the "
                "registered one: run `egov exchange gateway add %(code)s …` again."
            )
            % {"pki": paths.pki_dir, "name": name, "code": gateway.code}
        )
    return issued


def _current_config(paths: ExchangePaths, code: str) -> dict[str, Any]:
    """The gateway's gateway.json as it is now ({} when there is none or it is unreadable)."""
    try:
        current = json.loads(
            (paths.exchange_dir / code / "gateway.json").read_text(encoding="utf-8")
        )
    except (OSError, ValueError):
        return {}
    return current if isinstance(current, dict) else {}


def gateway_config(
    *,
    gateway: Gateway,
    paths: ExchangePaths,
    central_url: str | None = None,
    central_ca_file: str | None = None,
) -> dict[str, Any]:
    """The gateway.json of ``gateway``: its keys and certificates in the PKI, its listen
    addresses, where it fetches the global configuration and whom it trusts for that, the
    backend URL of each service it provides and each provider's key file. ``central_url``
    and ``central_ca_file`` are resolved by :func:`central_url_resolve` and
    :func:`central_ca_resolve` (given, settings, the current file, the demo's)."""
    for field, value in (
        ("client_listen", gateway.client_listen),
        ("client_tls_listen", gateway.client_tls_listen),
        ("server_listen", gateway.server_listen),
    ):
        if not value:
            raise ExchangeSetupInvalid(
                _(
                    "The gateway %(code)s has no %(field)s: give it with `egov exchange "
                    "gateway add` or in the admin."
                )
                % {"code": gateway.code, "field": field}
            )
    central = certificate_current(directory=paths.pki_dir, name=CENTRAL_SIGNING)
    if central is None:
        raise ExchangeSetupInvalid(
            _("The PKI in %(pki)s has no central signing certificate: run `egov exchange setup`.")
            % {"pki": paths.pki_dir}
        )
    tls = _registered_certificate(gateway, "tls", gateway.tls_certificate, paths)
    signing = _registered_certificate(gateway, "signing", gateway.signing_certificate, paths)
    folder = paths.exchange_dir / gateway.code
    current = _current_config(paths, gateway.code)
    central_url = central_url_resolve(central_url, current=str(current.get("central_url", "")))
    central_ca_file = central_ca_resolve(
        central_ca_file, current=str(current.get("central_ca_file", ""))
    )
    providers = (
        Subsystem.objects.filter(gateway=gateway, services__isnull=False)
        .select_related("member")
        .distinct()
    )
    services = Service.objects.filter(subsystem__gateway=gateway).exclude(backend_url="")
    return {
        "code": gateway.code,
        "instance": gateway.owner.instance,
        "client_listen": gateway.client_listen,
        "client_tls_listen": gateway.client_tls_listen,
        "server_listen": gateway.server_listen,
        "health_listen": gateway.health_listen,
        "central_url": central_url,
        "central_ca_file": central_ca_file,
        "anchor": str(central.certificate_path),
        "tls_key": str(tls.key_path),
        "tls_certificate": str(tls.certificate_path),
        "signing_key": str(signing.key_path),
        "signing_certificate": str(signing.certificate_path),
        "ca_certificates": [
            str(paths.pki_dir / "root.cert.pem"),
            str(paths.pki_dir / "issuing.cert.pem"),
        ],
        "services": dict(
            sorted(
                (service.identifier, service.backend_url)
                for service in services.select_related("subsystem__member")
            )
        ),
        "provider_credentials": {
            subsystem.identifier: str(
                provider_key_path(paths.provider_keys_dir, subsystem.identifier)
            )
            for subsystem in sorted(providers, key=lambda item: item.identifier)
        },
        "cache_file": str(folder / "globalconf.json"),
        "log_dir": str(folder / "messagelog"),
        "tsa_url": settings.GATEWAY_TSA_URL or tsa_url_for(central_url),
        "timestamp_interval": settings.GATEWAY_TIMESTAMP_INTERVAL,
        "timestamp_grace": settings.GATEWAY_TIMESTAMP_GRACE,
        "ocsp_url": urlunsplit((*urlsplit(central_url)[:2], "/trust/ocsp", "", "")),
    }


def gateway_config_write(
    *,
    gateway: Gateway,
    paths: ExchangePaths | None = None,
    central_url: str | None = None,
    central_ca_file: str | None = None,
) -> tuple[Path, ...]:
    """Write (or rewrite) the gateway's gateway.json, creating each provider's key file that
    is missing and the message log folder. Returns the files written."""
    paths = paths or ExchangePaths.from_settings()
    document = gateway_config(
        gateway=gateway, paths=paths, central_url=central_url, central_ca_file=central_ca_file
    )
    written: list[Path] = []
    for provider in document["provider_credentials"]:
        key = provider_key_path(paths.provider_keys_dir, provider)
        if not key.exists():
            written.append(
                provider_key_ensure(directory=paths.provider_keys_dir, provider=provider)
            )
    # The gateway asks the platform's OCSP responder about its peers: it must answer.
    ocsp_responder_certificate(pki_dir=paths.pki_dir)
    Path(document["log_dir"]).mkdir(parents=True, exist_ok=True)
    target = paths.exchange_dir / gateway.code / "gateway.json"
    data = (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    if write_file(target, data):
        written.append(target)
    logger.info("exchange.gateway_config_written", gateway=gateway.code)
    return tuple(written)


def gateway_write_config(
    *, code: str, central_url: str | None = None, central_ca_file: str | None = None
) -> Outcome:
    """``egov exchange gateway write-config CODE``: bring gateway.json up to date after
    services, subsystems, listen addresses or the central registry's address changed."""
    gateway = gateway_get(code)
    files = gateway_config_write(
        gateway=gateway, central_url=central_url, central_ca_file=central_ca_file
    )
    return Outcome(gateway, False, files)
