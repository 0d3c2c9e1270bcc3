"""``egov exchange``: join the exchange without editing code or files.

``setup`` creates a country's exchange from its description (``--file``; the demo's by
default only in the demo); ``member add``, ``subsystem add``, ``service add``,
``right grant``/``revoke``, ``gateway add``/``write-config`` and ``list`` register a ministry,
its information systems, its gateway, its services and who may call them (docs/exchange.md,
"Join the exchange")."""

from __future__ import annotations

import json
import textwrap
from argparse import ArgumentParser, RawDescriptionHelpFormatter
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from egov.core.errors import ApplicationError
from egov.exchange.central import onboarding
from egov.exchange.central.models import ConnectionType
from egov.exchange.central.selectors import registry_overview
from egov.exchange.central.setup import (
    DEMO_DATA,
    DEMO_REGISTRIES_URL,
    description_read,
    exchange_setup,
)
from egov.trust.pki import PkiError

CONNECTION_TYPES = [choice.value for choice in ConnectionType]
LANGUAGE_NAMES = {"be": "Belarusian", "ru": "Russian", "en": "English"}
CENTRAL_URL_HELP = (
    "the central registry's address, where the gateway fetches the global configuration: "
    "its base address (https://egov.example.by; /exchange/globalconf is appended when the "
    "path is empty or /) or the full URL. Default: EGOV_CENTRAL_URL{current}; in the demo "
    "http://127.0.0.1:8000"
)
CENTRAL_CA_HELP = (
    "PEM file of the CA certificates the gateway trusts for the central registry's TLS "
    'certificate ("" for the system\'s trust store). Default: EGOV_CENTRAL_CA_FILE{current}'
)
PURPOSE_FIELDS = (
    ("purpose_text_be", "text", "be"),
    ("purpose_text_ru", "text", "ru"),
    ("purpose_text_en", "text", "en"),
    ("legal_basis_be", "legal_basis", "be"),
    ("legal_basis_ru", "legal_basis", "ru"),
    ("legal_basis_en", "legal_basis", "en"),
)


def _client_options(parser: ArgumentParser, *, what: str) -> None:
    parser.add_argument(
        "--connection-type",
        choices=CONNECTION_TYPES,
        default=None,
        help=f"how the {what}'s information system connects to its gateway: HTTPS (TLS with "
        "a registered client certificate; the default for a new one), HTTPS_NO_AUTH (TLS, no "
        "certificate) or HTTP (plain, for tutorials and closed networks)",
    )
    parser.add_argument(
        "--certificate",
        action="append",
        type=Path,
        default=[],
        metavar="FILE",
        help="register this PEM client certificate (repeat for several)",
    )
    parser.add_argument(
        "--issue-certificate",
        action="store_true",
        help="issue an information-system certificate from the platform PKI and write it "
        "and its key into EGOV_EXCHANGE_CLIENT_TLS_DIR as <identifier>.cert.pem/.key.pem",
    )


class Command(BaseCommand):
    help = (
        "The exchange layer: `setup` creates or updates a country's exchange from its "
        "description (idempotent); "
        "`member`, `subsystem`, `service`, `right` and `gateway` register a ministry without "
        "code; `list` shows the central registry."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", required=True)
        self._add_setup(commands)

        member = commands.add_parser("member", help="members (ministries, agencies, companies)")
        member_commands = member.add_subparsers(dest="action", required=True)
        member_add = member_commands.add_parser(
            "add",
            help="register a member or update it",
            description="Register a member, e.g. `egov exchange member add BY/GOV/MINPRIRODY "
            '--name "Ministry of Natural Resources"`. Running it again updates the values '
            "given. The gateway, connection type and certificates matter only when the member "
            "itself calls services, without a subsystem.",
        )
        member_add.add_argument("identifier", help="INSTANCE/CLASS/MEMBER, e.g. BY/GOV/MINPRIRODY")
        member_add.add_argument("--name", required=True, help="the member's official name")
        member_add.add_argument(
            "--gateway", help="code of the gateway that hosts the member as a client"
        )
        _client_options(member_add, what="member")

        subsystem = commands.add_parser("subsystem", help="subsystems (information systems)")
        subsystem_commands = subsystem.add_subparsers(dest="action", required=True)
        subsystem_add = subsystem_commands.add_parser(
            "add",
            help="register a subsystem or update it",
            description="Register an information system of a member, e.g. `egov exchange "
            "subsystem add BY/GOV/MINPRIRODY/hunting --gateway GW-MINPRIRODY --issue-"
            "certificate`. Running it again updates the values given.",
        )
        subsystem_add.add_argument(
            "identifier",
            help="INSTANCE/CLASS/MEMBER/SUBSYSTEM, e.g. BY/GOV/MINPRIRODY/hunting",
        )
        subsystem_add.add_argument("--gateway", help="code of the gateway that hosts it")
        _client_options(subsystem_add, what="subsystem")

        service = commands.add_parser("service", help="services a subsystem provides")
        service_commands = service.add_subparsers(dest="action", required=True)
        service_add = service_commands.add_parser(
            "add",
            help="register a service from its OpenAPI description or update it",
            description="Register a REST service from its OpenAPI 3 description (a file or an "
            "http(s) URL); its endpoints come from the description's paths. `--base-url` is "
            "where the provider's gateway forwards the calls; run `egov exchange gateway "
            "write-config <its gateway>` afterwards.",
        )
        service_add.add_argument(
            "identifier",
            help="INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE, e.g. BY/GOV/MINPRIRODY/hunting/licence",
        )
        service_add.add_argument(
            "--openapi", required=True, metavar="FILE_OR_URL", help="the OpenAPI document"
        )
        service_add.add_argument(
            "--base-url",
            required=True,
            help="the service's address behind its gateway, e.g. http://10.0.0.7:8080/v1",
        )
        service_add.add_argument(
            "--personal-data",
            action="store_true",
            help="the service returns personal data: every right needs a purpose, every call "
            "is recorded",
        )
        service_add.add_argument("--title", help="default: the description's info.title")
        service_add.add_argument(
            "--timeout",
            type=float,
            default=onboarding.OPENAPI_TIMEOUT_SECONDS,
            help="seconds to wait for an OpenAPI URL (default: %(default)s)",
        )

        right = commands.add_parser("right", help="access rights")
        right_commands = right.add_subparsers(dest="action", required=True)
        grant = right_commands.add_parser(
            "grant",
            help="let a client call a service, for purposes, on some endpoints",
            formatter_class=RawDescriptionHelpFormatter,
            description=textwrap.fill(
                "Let a client (a subsystem, or a member calling without one) call a service. "
                "The right's endpoints and purposes become exactly those given; granting it "
                "again as it stands changes nothing. A right to a personal-data service needs "
                "at least one purpose: its code (what a call may send in X-Egov-Purpose), its "
                "text and its legal basis in Belarusian, Russian and English. Repeat the "
                "purpose options for several purposes.",
                width=88,
            )
            + "\n\n"
            "  egov exchange right grant BY/GOV/NCES/training BY/GOV/MVD/population/person \\\n"
            "    --endpoint 'GET /*' --purpose training \\\n"
            "    --purpose-text-be '…' --purpose-text-ru '…' --purpose-text-en '…' \\\n"
            "    --legal-basis-be '…' --legal-basis-ru '…' --legal-basis-en '…'",
        )
        grant.add_argument("client", help="INSTANCE/CLASS/MEMBER[/SUBSYSTEM]")
        grant.add_argument("service", help="INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE")
        grant.add_argument(
            "--endpoint",
            action="append",
            default=[],
            metavar='"METHOD PATH"',
            help='only this endpoint, e.g. "GET /persons/*" (method or *; * within a segment, '
            "** any number of segments); repeat for several; none: the whole service",
        )
        grant.add_argument(
            "--purpose", action="append", default=[], metavar="CODE", help="a purpose code"
        )
        for option, part, language in PURPOSE_FIELDS:
            grant.add_argument(
                "--" + option.replace("_", "-"),
                dest=option,
                action="append",
                default=[],
                metavar="TEXT",
                help=f"the purpose's {part.replace('_', ' ')} in {LANGUAGE_NAMES[language]}",
            )
        revoke = right_commands.add_parser(
            "revoke",
            help="withdraw a right",
            description="Withdraw a client's right to a service; the gateways refuse its "
            "calls from their next configuration refresh.",
        )
        revoke.add_argument("client", help="INSTANCE/CLASS/MEMBER[/SUBSYSTEM]")
        revoke.add_argument("service", help="INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE")

        gateway = commands.add_parser("gateway", help="security gateways")
        gateway_commands = gateway.add_subparsers(dest="action", required=True)
        gateway_add = gateway_commands.add_parser(
            "add",
            help="register a gateway, issue its certificates, write its gateway.json",
            description="Register a member's gateway: issue its TLS and message-signing "
            "certificates from the platform PKI, register them, and write "
            "<EGOV_EXCHANGE_DIR>/<code>/gateway.json. Start it with `egov gateway run <code>`.",
        )
        gateway_add.add_argument("code", help="e.g. GW-MINPRIRODY")
        gateway_add.add_argument("--owner", required=True, help="the member, e.g. BY/GOV/NCES")
        gateway_add.add_argument(
            "--client-listen",
            required=True,
            metavar="HOST:PORT",
            help="client side over plain HTTP, e.g. 127.0.0.1:8082",
        )
        gateway_add.add_argument(
            "--client-tls-listen",
            required=True,
            metavar="HOST:PORT",
            help="client side over TLS, e.g. 127.0.0.1:8092",
        )
        gateway_add.add_argument(
            "--server-listen",
            required=True,
            metavar="HOST:PORT",
            help="provider side for other gateways, e.g. 127.0.0.1:8445",
        )
        gateway_add.add_argument(
            "--health-listen",
            default="",
            metavar="HOST:PORT",
            help="health checks over plain HTTP (GET /healthz, GET /readyz), e.g. "
            "127.0.0.1:8087; default: none",
        )
        gateway_add.add_argument(
            "--address",
            help="how other gateways reach the provider side (default: https://<server-listen>)",
        )
        gateway_add.add_argument(
            "--central-url", default=None, help=CENTRAL_URL_HELP.format(current="")
        )
        gateway_add.add_argument(
            "--central-ca", default=None, metavar="FILE", help=CENTRAL_CA_HELP.format(current="")
        )
        write = gateway_commands.add_parser(
            "write-config",
            help="rewrite a gateway's gateway.json after changes",
            description="Rewrite <EGOV_EXCHANGE_DIR>/<code>/gateway.json from the central "
            "registry: its listen addresses, the services it provides with their backend "
            "URLs, and a key file per provider subsystem it hosts (created when missing). "
            "Restart the gateway afterwards.",
        )
        write.add_argument("code", help="e.g. GW-MINPRIRODY")
        write.add_argument(
            "--central-url",
            default=None,
            help=CENTRAL_URL_HELP.format(current=", else the one in the current file"),
        )
        write.add_argument(
            "--central-ca",
            default=None,
            metavar="FILE",
            help=CENTRAL_CA_HELP.format(current=", else the one in the current file"),
        )

        commands.add_parser(
            "list",
            help="show the central registry",
            description="Members, subsystems, gateways, services and access rights.",
        )

    def _add_setup(self, commands: Any) -> None:
        setup = commands.add_parser(
            "setup",
            help="PKI, central registry, certificates, keys and gateway files of a country",
            description="Create or update the exchange a YAML description gives: the "
            "instance, member classes, members, subsystems, services, gateways, purposes and "
            "access rights (docs/exchange-description.md). The whole description is checked "
            "first. Idempotent: nothing changes when everything is in place.",
        )
        setup.add_argument(
            "--file",
            "--from-yaml",
            dest="file",
            type=Path,
            default=None,
            metavar="FILE",
            help="the exchange description (required; only the demo, EGOV_DEMO=true, falls "
            f"back to {DEMO_DATA.name})",
        )
        setup.add_argument("--pki-dir", type=Path, default=None, help="default: EGOV_PKI_DIR")
        setup.add_argument(
            "--exchange-dir", type=Path, default=None, help="default: EGOV_EXCHANGE_DIR"
        )
        setup.add_argument(
            "--client-tls-dir",
            type=Path,
            default=None,
            help="default: EGOV_EXCHANGE_CLIENT_TLS_DIR",
        )
        setup.add_argument(
            "--provider-keys-dir",
            type=Path,
            default=None,
            help="default: EGOV_EXCHANGE_PROVIDER_KEYS_DIR",
        )
        setup.add_argument(
            "--registries-url",
            default=None,
            help="the registries' web address, which the services' base_path is appended to "
            f"(default in the demo: {DEMO_REGISTRIES_URL})",
        )
        setup.add_argument(
            "--central-url",
            default=None,
            help=CENTRAL_URL_HELP.format(current=", else the one in each gateway's file"),
        )
        setup.add_argument(
            "--central-ca",
            default=None,
            metavar="FILE",
            help=CENTRAL_CA_HELP.format(current=", else the one in each gateway's file"),
        )
        setup.add_argument(
            "--ports",
            default=None,
            help='listen addresses by gateway as JSON, e.g. {"GW-PORTAL": {"client": 18080, '
            '"client_tls": 18090, "server": 18443, "health": 18085}}',
        )

    def handle(self, *args: Any, **options: Any) -> None:
        subcommand = options["subcommand"]
        handler = {
            "setup": self._setup,
            "member": self._member,
            "subsystem": self._subsystem,
            "service": self._service,
            "right": self._right,
            "gateway": self._gateway,
            "list": self._list,
        }[subcommand]
        try:
            handler(options)
        except (ApplicationError, PkiError) as error:
            raise CommandError(str(error)) from None

    # --- subcommands -----------------------------------------------------------------------

    def _setup(self, options: dict[str, Any]) -> None:
        try:
            ports = json.loads(options["ports"]) if options["ports"] else None
        except ValueError as error:
            raise CommandError(f"--ports is not JSON: {error}") from None
        if ports is not None and not isinstance(ports, dict):
            raise CommandError("--ports must be a JSON object keyed by gateway code")
        path = options["file"]
        if path is None:
            if not settings.DEMO_MODE:
                raise CommandError(
                    "give the exchange description with --file FILE "
                    "(docs/exchange-description.md); only the demo (EGOV_DEMO=true) falls "
                    "back to the demo's description"
                )
            path = DEMO_DATA
        registries_url = options["registries_url"]
        if registries_url is None:
            registries_url = DEMO_REGISTRIES_URL if settings.DEMO_MODE else ""
        data = description_read(path)
        exchange_dir = Path(options["exchange_dir"] or settings.EXCHANGE_DIR)
        exchange_setup(
            data=data,
            pki_dir=Path(options["pki_dir"] or settings.PKI_DIR),
            exchange_dir=exchange_dir,
            client_tls_dir=options["client_tls_dir"],
            provider_keys_dir=options["provider_keys_dir"],
            registries_url=registries_url,
            central_url=options["central_url"],
            central_ca_file=options["central_ca"],
            ports=ports,
            warn=lambda message: self.stderr.write(f"warning: {message}"),
            base_dir=Path(path).resolve().parent,
        )
        for gateway in data.get("gateways", []):
            self.stdout.write(f"{exchange_dir.resolve() / gateway['code'] / 'gateway.json'}")
        self.stdout.write("exchange ready")

    def _certificates(self, files: list[Path]) -> list[str]:
        try:
            return [path.read_text(encoding="ascii") for path in files]
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"cannot read the certificate: {error}") from None

    def _report(self, outcome: onboarding.Outcome, what: str) -> None:
        self.stdout.write(f"{what}: registry {'updated' if outcome.changed else 'unchanged'}")
        for path in outcome.files:
            self.stdout.write(f"wrote {path}")

    def _member(self, options: dict[str, Any]) -> None:
        outcome = onboarding.member_add(
            identifier=options["identifier"],
            name=options["name"],
            connection_type=options["connection_type"],
            gateway=options["gateway"],
            certificates=self._certificates(options["certificate"]),
            issue_certificate=options["issue_certificate"],
        )
        self._report(outcome, f"member {outcome.entry.identifier}")

    def _subsystem(self, options: dict[str, Any]) -> None:
        outcome = onboarding.subsystem_add(
            identifier=options["identifier"],
            gateway=options["gateway"],
            connection_type=options["connection_type"],
            certificates=self._certificates(options["certificate"]),
            issue_certificate=options["issue_certificate"],
        )
        self._report(outcome, f"subsystem {outcome.entry.identifier}")
        if outcome.entry.gateway_id:
            self.stdout.write(
                f"next: egov exchange gateway write-config {outcome.entry.gateway.code}"
            )

    def _service(self, options: dict[str, Any]) -> None:
        document = onboarding.openapi_fetch(options["openapi"], timeout=options["timeout"])
        outcome = onboarding.service_add(
            identifier=options["identifier"],
            openapi=document,
            base_url=options["base_url"],
            personal_data=options["personal_data"],
            title=options["title"],
        )
        service = outcome.entry
        self._report(outcome, f"service {service.identifier}")
        for endpoint in service.endpoints:
            self.stdout.write(f"  {endpoint['method']} {endpoint['path']}")
        if service.subsystem.gateway_id:
            self.stdout.write(
                f"next: egov exchange gateway write-config {service.subsystem.gateway.code}"
            )

    def _purposes(self, options: dict[str, Any]) -> list[dict[str, Any]]:
        codes = options["purpose"]
        for option, _part, _language in PURPOSE_FIELDS:
            if len(options[option]) != len(codes):
                flag = "--" + option.replace("_", "-")
                raise CommandError(
                    f"give {flag} once for each --purpose ({len(codes)} purposes, "
                    f"{len(options[option])} times {flag})"
                )
        purposes = []
        for index, code in enumerate(codes):
            purpose: dict[str, Any] = {"code": code, "text": {}, "legal_basis": {}}
            for option, part, language in PURPOSE_FIELDS:
                purpose[part][language] = options[option][index]
            purposes.append(purpose)
        return purposes

    def _right(self, options: dict[str, Any]) -> None:
        label = f"right {options['client']} → {options['service']}"
        if options["action"] == "revoke":
            outcome = onboarding.right_revoke(client=options["client"], service=options["service"])
            self.stdout.write(f"{label}: {'revoked' if outcome.changed else 'there was none'}")
            return
        outcome = onboarding.right_grant(
            client=options["client"],
            service=options["service"],
            endpoints=options["endpoint"],
            purposes=self._purposes(options),
        )
        self._report(outcome, label)

    def _gateway(self, options: dict[str, Any]) -> None:
        if options["action"] == "add":
            outcome = onboarding.gateway_add(
                code=options["code"],
                owner=options["owner"],
                client_listen=options["client_listen"],
                client_tls_listen=options["client_tls_listen"],
                server_listen=options["server_listen"],
                health_listen=options["health_listen"],
                address=options["address"],
                central_url=options["central_url"],
                central_ca_file=options["central_ca"],
            )
        else:
            outcome = onboarding.gateway_write_config(
                code=options["code"],
                central_url=options["central_url"],
                central_ca_file=options["central_ca"],
            )
        self._report(outcome, f"gateway {outcome.entry.code}")
        self.stdout.write(
            f"{Path(settings.EXCHANGE_DIR).resolve() / outcome.entry.code / 'gateway.json'}"
        )

    def _list(self, options: dict[str, Any]) -> None:
        for line in registry_overview():
            self.stdout.write(line)
