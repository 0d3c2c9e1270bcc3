from typing import Any

from django.core.management.base import BaseCommand
from tqdm import tqdm

from egov.demo.applications import demo_applications_seed
from egov.demo.seed import demo_seed


class Command(BaseCommand):
    help = (
        "Create or update the demo country (catalogue, service definitions, demo accounts, "
        "applications in every state). Idempotent."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        def progress(items: Any) -> Any:
            return tqdm(items, desc="services", unit="service", disable=options["verbosity"] == 0)

        counts = demo_seed(progress=progress)
        counts |= demo_applications_seed(
            progress=lambda items: tqdm(
                items, desc="applications", unit="service", disable=options["verbosity"] == 0
            )
        )
        summary = ", ".join(f"{name}: {count}" for name, count in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Demo country seeded ({summary})."))
