"""``egov gateway run`` serves a gateway; ``egov gateway verify-log`` checks message logs."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from egov.exchange.gateway.conf import GatewaySettings
from egov.exchange.gateway.errors import ACCESS_LOGGER
from egov.exchange.gateway.messagelog import log_files, verify_log
from egov.trust.pki import load_certificates


class Command(BaseCommand):
    help = "Run an exchange gateway, or verify its message log offline."

    def add_arguments(self, parser: Any) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        run = commands.add_parser("run", help="serve a gateway until stopped")
        run.add_argument(
            "code", help="gateway code, e.g. GW-PORTAL (reads <exchange dir>/<code>/gateway.json)"
        )
        run.add_argument("--config", help="path of gateway.json (instead of the code's default)")
        verify = commands.add_parser("verify-log", help="verify message log files offline")
        verify.add_argument("path", help="a .jsonl log file or a folder of them")
        verify.add_argument(
            "--ca",
            help="PEM file of the CA certificates the signers' certificates must be issued by, "
            "and the timestamp tokens' TSA certificate must chain to "
            "(default: the platform PKI's issuing CA)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "run":
            self._run(options)
        else:
            self._verify(options)

    def _run(self, options: dict[str, Any]) -> None:
        from egov.exchange.gateway.server import GatewayStartError, serve

        path = Path(options["config"] or settings.EXCHANGE_DIR / options["code"] / "gateway.json")
        if not path.exists():
            raise CommandError(f"{path} does not exist: run `egov exchange setup` first")
        try:
            gateway_settings = GatewaySettings.load(path)
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise CommandError(f"{path} is not a gateway's configuration: {error!r}") from None
        gateway_settings = dataclasses.replace(gateway_settings, access_log=settings.ACCESS_LOG)
        # aiohttp's own loggers at the servers' level; the access log, when on, whatever
        # egov's level is.
        for name in ("aiohttp", "aiohttp.server", "aiohttp.client", "aiohttp.web"):
            logging.getLogger(name).setLevel(settings.SERVER_LOG_LEVEL.upper())
        if settings.ACCESS_LOG:
            logging.getLogger(ACCESS_LOGGER).setLevel(logging.INFO)
        try:
            import uvloop  # the faster event loop, when installed
        except ImportError:
            runner: Any = asyncio.run
        else:
            runner = uvloop.run
        try:
            runner(serve(gateway_settings))
        except GatewayStartError as error:
            raise CommandError(str(error)) from None

    def _verify(self, options: dict[str, Any]) -> None:
        target = Path(options["path"])
        if not target.exists():
            raise CommandError(f"{target} does not exist")
        # Signers' certificates must chain to the platform's CA: a log rewritten with a
        # self-made key would otherwise verify.
        ca = Path(options["ca"]) if options.get("ca") else settings.PKI_DIR / "issuing.cert.pem"
        if not ca.exists():
            raise CommandError(f"{ca} does not exist: give the CA certificates with --ca")
        authorities = load_certificates(ca)
        failed = False
        for path in log_files(target):
            result = verify_log(path, authorities)
            verdict = "OK" if result.ok else "FAILED"
            self.stdout.write(
                f"{verdict} {path}: {result.records} records, {result.messages} messages, "
                f"{result.seals} seals, {result.timestamps} timestamps, "
                f"{result.errors} exchange errors"
                + (
                    f", {result.untimestamped_seals} seals without a timestamp"
                    if result.untimestamped_seals
                    else ""
                )
                + (
                    f", {result.unsealed_tail} messages after the last seal"
                    if result.unsealed_tail
                    else ""
                )
            )
            for problem in result.problems:
                self.stdout.write(f"  {problem}")
            failed = failed or not result.ok
        if failed:
            raise CommandError("the message log does not verify")
