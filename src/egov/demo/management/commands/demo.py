import os
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Migrate, collect static files, seed the demo country and serve it with a worker."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument("--no-serve", action="store_true", help="prepare only")
        parser.add_argument(
            "--registries-bind",
            default="127.0.0.1:8001",
            help="host:port of the base registries' web process",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        built = settings.PACKAGE_DIR / "static" / "egov" / "dist" / "app.css"
        if not built.exists():
            raise CommandError("The front end is not built: run `npm ci && npm run build` first.")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        call_command("seed", verbosity=options["verbosity"])
        if not options["no_serve"]:
            # Beside the web server, and stopped with it: the background worker
            # (notifications, automatic workflow steps), the base registries' own web process
            # (reachable only through the exchange) and the two gateways (docs/exchange.md).
            # The web server and the worker call the registries on the TLS client side of the
            # portal's gateway, each call with its subsystem's certificate (ADR 0008).
            egov = [sys.executable, "-m", "egov.cli"]
            platform = {**os.environ, **exchange_client_environment()}
            registries = {**platform, "EGOV_ROOT_URLCONF": "egov.registries.urls"}
            helpers = [
                subprocess.Popen([*egov, "worker"], env=platform),
                subprocess.Popen(
                    [*egov, "serve", "--bind", options["registries_bind"], "--workers", "2"],
                    env=registries,
                ),
                subprocess.Popen([*egov, "gateway", "run", "GW-REGISTRIES"], env=platform),
                subprocess.Popen([*egov, "gateway", "run", "GW-PORTAL"], env=platform),
                # The e-ID signer, as on a person's computer, with the demo people's e-IDs.
                subprocess.Popen(
                    [*egov, "signer", "--pkcs12-dir", str(settings.EID_DIR)], env=platform
                ),
            ]
            self.stdout.write(
                f"registries on http://{options['registries_bind']}/ (through the exchange only); "
                f"the portal and the workers call them through {settings.EXCHANGE_GATEWAY_URL} "
                "(a certificate per subsystem); information systems on plain HTTP, e.g. "
                "BY/GOV/NCES/training, at http://127.0.0.1:8080; the gateways' health checks "
                "at http://127.0.0.1:8085/readyz (GW-PORTAL) and http://127.0.0.1:8086/readyz "
                "(GW-REGISTRIES); egov signer with the demo people's e-IDs at "
                f"{settings.SIGNER_URL}"
            )
            try:
                call_command("serve", bind=options["bind"])
            finally:
                for helper in helpers:
                    helper.terminate()
                for helper in helpers:
                    helper.wait(timeout=15)


def exchange_client_environment() -> dict[str, str]:
    """How the demo's web server and workers reach the exchange, as this process resolved it:
    the gateway's client side and the folders of the certificates and keys ``egov exchange
    setup`` wrote, so every process of the demo presents the same files."""
    return {
        "EGOV_EXCHANGE_GATEWAY_URL": str(settings.EXCHANGE_GATEWAY_URL),
        "EGOV_EXCHANGE_CLIENT_TLS_DIR": str(settings.EXCHANGE_CLIENT_TLS_DIR),
        "EGOV_EXCHANGE_PROVIDER_KEYS_DIR": str(settings.EXCHANGE_PROVIDER_KEYS_DIR),
        "EGOV_PKI_DIR": str(settings.PKI_DIR),
        "EGOV_EXCHANGE_DIR": str(settings.EXCHANGE_DIR),
    }
