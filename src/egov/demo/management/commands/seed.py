from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand
from tqdm import tqdm

from egov.demo.applications import demo_applications_seed
from egov.demo.eid import demo_eids_issue
from egov.demo.seed import demo_seed


class Command(BaseCommand):
    help = (
        "Create or update the demo country (catalogue, service definitions, demo accounts, "
        "applications in every state), the base registries' people and companies and the "
        "exchange (PKI, central registry, gateway files). Idempotent."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--persons", type=int, default=20000, help="people in the registers")
        parser.add_argument("--companies", type=int, default=2000, help="companies")

    def handle(self, *args: Any, **options: Any) -> None:
        def progress(items: Any) -> Any:
            return tqdm(items, desc="services", unit="service", disable=options["verbosity"] == 0)

        counts = demo_seed(progress=progress)
        counts |= demo_applications_seed(
            progress=lambda items: tqdm(
                items, desc="applications", unit="service", disable=options["verbosity"] == 0
            )
        )
        # The registries and the exchange are reached by command name only: nothing outside the
        # registries imports their code (import-linter contract).
        call_command(
            "registry",
            "generate",
            persons=options["persons"],
            companies=options["companies"],
            demo_people=True,
            if_empty=True,
            verbosity=options["verbosity"],
        )
        call_command("exchange", "setup", verbosity=options["verbosity"])
        # After the PKI exists: each demo person's e-ID file (EGOV_EID_DIR, README).
        counts["eids_issued"] = demo_eids_issue()
        summary = ", ".join(f"{name}: {count}" for name, count in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Demo country seeded ({summary})."))
