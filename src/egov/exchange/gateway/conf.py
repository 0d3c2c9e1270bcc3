"""A gateway's two sources of truth: its own file and the central registry's configuration.

``gateway.json`` (written by ``egov exchange setup``) says who this gateway is: its keys, where
it listens, which local service URLs it serves, where the central registry is and which CA
certificates it trusts for the central registry's TLS (``central_ca_file``; none: the
system's trust store). The signed
global configuration says who everyone else is: members, subsystems, gateways and their
certificates, services and access rights, revoked certificates. The gateway keeps the last
verified configuration in a cache file, refreshes it, and refuses to work once it expires.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from egov.exchange.globalconf import (
    GlobalconfInvalid,
    globalconf_expired,
    globalconf_verify,
    parse_timestamp,
    timestamp,
)
from egov.trust.pki import fingerprint_sha256, load_private_key

logger = structlog.get_logger(__name__)

#: X-Road's connection types between an information system and its gateway's client side.
HTTP = "HTTP"
HTTPS_NO_AUTH = "HTTPS_NO_AUTH"
HTTPS = "HTTPS"


@dataclass(frozen=True)
class GatewaySettings:
    code: str
    instance: str
    #: Plain HTTP for information systems (connection type HTTP).
    client_listen: str
    server_listen: str
    central_url: str
    anchor: Path
    tls_key: Path
    tls_certificate: Path
    signing_key: Path
    signing_certificate: Path
    ca_certificates: list[Path]
    services: dict[str, str]
    #: The credential of each provider subsystem served here (a key file each, ADR 0008):
    #: its services receive their own provider's key and no other.
    provider_credentials: dict[str, Path]
    cache_file: Path
    log_dir: Path
    refresh_seconds: float = 60.0
    max_body_bytes: int = 10 * 1024 * 1024
    service_timeout: float = 30.0
    #: TLS for information systems, client certificates optional (HTTPS_NO_AUTH, HTTPS);
    #: empty: not served.
    client_tls_listen: str = ""
    #: ``GET /healthz`` and ``GET /readyz`` over plain HTTP; empty: not served.
    health_listen: str = ""
    #: PEM bundle trusted for the central registry's TLS certificate; None: the system's.
    central_ca_file: Path | None = None
    #: One access-log line per request (``EGOV_ACCESS_LOG``, set by ``egov gateway run``).
    access_log: bool = False
    #: The platform's RFC 3161 TSA (``<portal>/trust/tsa``) for the message log's seals;
    #: empty: the seals get no timestamps and the gateway never stops for want of them.
    tsa_url: str = ""
    #: Seconds between timestamp queries (one per batch of seals).
    timestamp_interval: float = 10.0
    #: Seconds the oldest seal may wait for its token before the gateway stops forwarding.
    timestamp_grace: float = 600.0
    #: The platform's OCSP responder (``<portal>/trust/ocsp``) for the other gateways'
    #: certificates; empty: only the global configuration's revocations count.
    ocsp_url: str = ""
    #: Seconds between OCSP queries, and the age past which a peer without a newer good
    #: answer is refused.
    ocsp_interval: float = 60.0
    ocsp_max_age: float = 3600.0

    def __post_init__(self) -> None:
        if self.tsa_url and not self.tsa_url.startswith(("http://", "https://")):
            raise ValueError(f"tsa_url must be an http:// or https:// URL, not {self.tsa_url!r}")
        if not self.timestamp_interval > 0 or not self.timestamp_grace > 0:
            raise ValueError("timestamp_interval and timestamp_grace must be positive seconds")
        if self.ocsp_url and not self.ocsp_url.startswith(("http://", "https://")):
            raise ValueError(f"ocsp_url must be an http:// or https:// URL, not {self.ocsp_url!r}")
        if not self.ocsp_interval > 0 or not self.ocsp_max_age > 0:
            raise ValueError("ocsp_interval and ocsp_max_age must be positive seconds")

    @classmethod
    def load(cls, path: Path) -> GatewaySettings:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            code=data["code"],
            instance=data["instance"],
            client_listen=data["client_listen"],
            server_listen=data["server_listen"],
            central_url=data["central_url"],
            anchor=Path(data["anchor"]),
            tls_key=Path(data["tls_key"]),
            tls_certificate=Path(data["tls_certificate"]),
            signing_key=Path(data["signing_key"]),
            signing_certificate=Path(data["signing_certificate"]),
            ca_certificates=[Path(item) for item in data["ca_certificates"]],
            services=dict(data.get("services", {})),
            provider_credentials={
                str(provider): Path(path)
                for provider, path in dict(data.get("provider_credentials", {})).items()
            },
            cache_file=Path(data["cache_file"]),
            log_dir=Path(data["log_dir"]),
            refresh_seconds=float(data.get("refresh_seconds", 60)),
            max_body_bytes=int(data.get("max_body_bytes", 10 * 1024 * 1024)),
            service_timeout=float(data.get("service_timeout", 30)),
            client_tls_listen=data.get("client_tls_listen", ""),
            health_listen=data.get("health_listen", ""),
            central_ca_file=Path(data["central_ca_file"]) if data.get("central_ca_file") else None,
            tsa_url=str(data.get("tsa_url") or ""),
            timestamp_interval=float(data.get("timestamp_interval", 10)),
            timestamp_grace=float(data.get("timestamp_grace", 600)),
            ocsp_url=str(data.get("ocsp_url") or ""),
            ocsp_interval=float(data.get("ocsp_interval", 60)),
            ocsp_max_age=float(data.get("ocsp_max_age", 3600)),
        )

    def signing_private_key(self) -> ec.EllipticCurvePrivateKey:
        return load_private_key(self.signing_key)

    def provider_keys(self) -> dict[str, str]:
        """Each provider's key, read once at start."""
        return {
            provider: path.read_text(encoding="utf-8").strip()
            for provider, path in self.provider_credentials.items()
        }


@dataclass
class Peer:
    """Another gateway as the global configuration describes it."""

    code: str
    address: str
    tls_fingerprint: str
    tls_serial: int
    tls_certificate_pem: str
    signing_certificate_pem: str
    signing_key: ec.EllipticCurvePublicKey
    signing_serial: int


@dataclass(frozen=True)
class Grant:
    """One access right: which endpoints (none: the whole service) and which purposes."""

    endpoints: tuple[dict[str, str], ...] = ()
    purposes: tuple[dict[str, Any], ...] = ()


@dataclass
class GlobalConf:
    """A verified configuration, indexed for the per-request checks."""

    content: dict[str, Any]
    expires_at: datetime
    serial: int
    generated_at: datetime
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    subsystems: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Who may call: every subsystem, and a member without a subsystem that has a gateway.
    clients: dict[str, dict[str, Any]] = field(default_factory=dict)
    gateways: dict[str, Peer] = field(default_factory=dict)
    by_tls: dict[str, Peer] = field(default_factory=dict)
    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    rights: dict[tuple[str, str], list[Grant]] = field(default_factory=dict)
    revoked: set[int] = field(default_factory=set)
    _purposes_json: dict[tuple[int, ...], str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_content(cls, content: dict[str, Any]) -> GlobalConf:
        conf = cls(
            content=content,
            expires_at=parse_timestamp(str(content["expires_at"])),
            generated_at=parse_timestamp(str(content["generated_at"])),
            serial=int(content.get("serial", 0)),
        )
        conf.members = {item["id"]: item for item in content.get("members", [])}
        conf.subsystems = {item["id"]: item for item in content.get("subsystems", [])}
        conf.clients = {
            **{item["id"]: item for item in content.get("members", []) if item.get("gateway")},
            **conf.subsystems,
        }
        conf.revoked = {int(serial) for serial in content.get("revoked_serials", [])}
        for item in content.get("gateways", []):
            tls = x509.load_pem_x509_certificate(item["tls_certificate"].encode("ascii"))
            signing = x509.load_pem_x509_certificate(item["signing_certificate"].encode("ascii"))
            public_key = signing.public_key()
            if not isinstance(public_key, ec.EllipticCurvePublicKey):
                continue
            peer = Peer(
                code=item["code"],
                address=item["address"].rstrip("/"),
                # Gateways are recognised by their TLS certificate's SHA-256 fingerprint.
                tls_fingerprint=fingerprint_sha256(tls),
                tls_serial=tls.serial_number,
                tls_certificate_pem=item["tls_certificate"],
                signing_certificate_pem=item["signing_certificate"],
                signing_key=public_key,
                signing_serial=signing.serial_number,
            )
            conf.gateways[peer.code] = peer
            conf.by_tls[peer.tls_fingerprint] = peer
        conf.services = {item["id"]: item for item in content.get("services", [])}
        for item in content.get("access_rights", []):
            grant = Grant(
                endpoints=tuple(dict(endpoint) for endpoint in item.get("endpoints") or []),
                purposes=tuple(dict(purpose) for purpose in item.get("purposes") or []),
            )
            conf.rights.setdefault((item["client"], item["service"]), []).append(grant)
        return conf

    def expired(self, now: datetime | None = None) -> bool:
        return (now or datetime.now(UTC)) >= self.expires_at

    def gateway_of(self, subsystem_id: str) -> Peer | None:
        subsystem = self.subsystems.get(subsystem_id)
        if not subsystem or not subsystem.get("gateway"):
            return None
        peer = self.gateways.get(subsystem["gateway"])
        if peer is None or self.peer_revoked(peer):
            return None
        return peer

    def client_connection_type(self, client: str) -> str:
        """``HTTP``, ``HTTPS_NO_AUTH`` or ``HTTPS``; a missing one is ``HTTPS`` (fail closed)."""
        return str(self.clients.get(client, {}).get("connection_type") or HTTPS)

    def client_certificates(self, client: str) -> frozenset[str]:
        """Lower-case hex SHA-256 fingerprints of the certificates registered for a client."""
        fingerprints = self.clients.get(client, {}).get("client_certificates") or []
        return frozenset(str(item).lower() for item in fingerprints)

    def peer_revoked(self, peer: Peer) -> bool:
        return peer.tls_serial in self.revoked or peer.signing_serial in self.revoked

    def allowed(self, client: str, service: str) -> bool:
        return (client, service) in self.rights

    def grants(self, client: str, service: str) -> list[Grant]:
        return self.rights.get((client, service), [])

    def purposes_json(self, purposes: list[dict[str, Any]]) -> str:
        """``X-Egov-Purposes`` for purposes of this configuration: a JSON array in ASCII,
        serialised once per combination (the texts are long, the calls many)."""
        key = tuple(id(purpose) for purpose in purposes)
        text = self._purposes_json.get(key)
        if text is None:
            text = json.dumps(purposes, ensure_ascii=True, separators=(",", ":"))
            self._purposes_json[key] = text
        return text


class ConfHolder:
    """The current verified configuration; replaced only by a newer, valid one."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.anchor = settings.anchor.read_bytes()
        self.current: GlobalConf | None = None
        self.last_error = ""
        #: The time the expiry is judged by (a test sets the exact instant).
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def accept(self, envelope: dict[str, Any]) -> GlobalConf:
        """Verify and install ``envelope``. A configuration older than the one in use — a
        lower serial, or the same serial generated earlier (a certificate revocation does not
        change the serial) — is refused: a replayed old configuration must not bring back a
        removed right or a revoked certificate."""
        content = globalconf_verify(envelope, self.anchor)
        if content.get("instance") != self.settings.instance:
            raise GlobalconfInvalid("bad_content", "the configuration is for another instance")
        if globalconf_expired(content, now=self.clock()):
            raise GlobalconfInvalid("expired", "the global configuration has expired")
        conf = GlobalConf.from_content(content)
        if self.current is not None:
            current = self.current
            newer = (conf.serial, conf.generated_at) > (current.serial, current.generated_at)
            same = (conf.serial, conf.generated_at) == (current.serial, current.generated_at)
            if not newer and not (same and conf.content == current.content):
                raise GlobalconfInvalid("stale", "older than the configuration in use")
        self.current = conf
        return conf

    def load_cache(self) -> None:
        try:
            envelope = json.loads(self.settings.cache_file.read_text(encoding="utf-8"))
            self.accept(envelope)
        except FileNotFoundError:
            return
        except (GlobalconfInvalid, ValueError, KeyError) as error:
            self.last_error = str(error)
            logger.warning(
                "globalconf_cache_not_used", gateway=self.settings.code, reason=str(error)
            )

    def store_cache(self, envelope: dict[str, Any]) -> None:
        target = self.settings.cache_file
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=target.parent)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(envelope, handle)
        os.replace(temporary, target)

    def usable(self) -> GlobalConf | None:
        """The configuration if it is still valid, else None: fail closed."""
        if self.current is None or self.current.expired(self.clock()):
            return None
        return self.current

    def status(self) -> dict[str, Any]:
        """The readiness check's view of the configuration: whether it is valid, its serial,
        when it expires and for how long it is still valid, and why it is not (or why the
        last refresh failed)."""
        conf = self.current
        if conf is None:
            return {
                "valid": False,
                "serial": None,
                "expires_at": None,
                "valid_for_seconds": None,
                "reason": self.last_error or "no global configuration has been fetched yet",
            }
        remaining = (conf.expires_at - self.clock()).total_seconds()
        failed = f"the last refresh failed: {self.last_error}" if self.last_error else None
        reason = failed
        if remaining <= 0:
            reason = "the global configuration has expired" + (f"; {failed}" if failed else "")
        return {
            "valid": remaining > 0,
            "serial": conf.serial,
            "expires_at": timestamp(conf.expires_at),
            "valid_for_seconds": max(0, int(remaining)),
            "reason": reason,
        }
