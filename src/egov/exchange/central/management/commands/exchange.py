"""``egov exchange setup``: the exchange's PKI, central registry data and gateway files."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from egov.core.errors import ApplicationError
from egov.exchange.central.setup import (
    DEFAULT_CENTRAL_URL,
    DEFAULT_REGISTRIES_URL,
    demo_data,
    exchange_setup,
)
from egov.trust.pki import PkiError


class Command(BaseCommand):
    help = "The exchange layer: `setup` creates or updates the demo exchange (idempotent)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", required=True)
        setup = commands.add_parser("setup", help="PKI, central registry and gateway files")
        setup.add_argument(
            "--from-yaml", type=Path, default=None, help="description (default: the demo's)"
        )
        setup.add_argument("--pki-dir", type=Path, default=None, help="default: EGOV_PKI_DIR")
        setup.add_argument(
            "--exchange-dir", type=Path, default=None, help="default: EGOV_EXCHANGE_DIR"
        )
        setup.add_argument("--registries-url", default=DEFAULT_REGISTRIES_URL)
        setup.add_argument("--central-url", default=DEFAULT_CENTRAL_URL)
        setup.add_argument(
            "--ports",
            default=None,
            help='listen addresses by gateway as JSON, e.g. {"GW-PORTAL": {"client": 18080, '
            '"server": 18443}}',
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            ports = json.loads(options["ports"]) if options["ports"] else None
        except ValueError as error:
            raise CommandError(f"--ports is not JSON: {error}") from None
        if ports is not None and not isinstance(ports, dict):
            raise CommandError("--ports must be a JSON object keyed by gateway code")
        path = options["from_yaml"]
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) if path else demo_data()
        except (OSError, yaml.YAMLError) as error:
            raise CommandError(str(error)) from None
        exchange_dir = Path(options["exchange_dir"] or settings.EXCHANGE_DIR)
        try:
            exchange_setup(
                data=data,
                pki_dir=Path(options["pki_dir"] or settings.PKI_DIR),
                exchange_dir=exchange_dir,
                registries_url=options["registries_url"],
                central_url=options["central_url"],
                ports=ports,
                warn=lambda message: self.stderr.write(f"warning: {message}"),
            )
        except (ApplicationError, PkiError, KeyError) as error:
            raise CommandError(str(error)) from None
        for gateway in data.get("gateways", []):
            self.stdout.write(f"{exchange_dir.resolve() / gateway['code'] / 'gateway.json'}")
        self.stdout.write("exchange ready")
