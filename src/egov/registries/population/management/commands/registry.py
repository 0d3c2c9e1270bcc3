"""``egov registry generate``: fill the base registries with synthetic, consistent data;
``egov registry openapi``: write the services' OpenAPI documents from their source."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from egov.registries.openapi import openapi_write
from egov.registries.population.demo import demo_people_ensure
from egov.registries.population.generator import (
    CapacityError,
    generated_persons,
    registry_generate,
)


class Command(BaseCommand):
    help = "Base registries: generate synthetic data, write the OpenAPI documents."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        generate = actions.add_parser(
            "generate",
            help="Append synthetic persons, households, addresses and companies.",
            description=(
                "Append synthetic persons (households with parents, children and spouses at "
                "shared addresses, address history, documents) and companies headed by them."
            ),
        )
        generate.add_argument("--persons", type=int, default=0, help="Persons to generate.")
        generate.add_argument("--companies", type=int, default=0, help="Companies to generate.")
        generate.add_argument(
            "--batch-size", type=int, default=5000, help="Persons written per transaction."
        )
        generate.add_argument("--seed", type=int, default=0, help="Seed: same seed, same data.")
        generate.add_argument(
            "--demo-people",
            action="store_true",
            help="Also create the demo accounts' own records (data/demo_people.yaml).",
        )
        generate.add_argument(
            "--if-empty",
            action="store_true",
            help="Generate nothing when an earlier run already generated persons.",
        )
        generate.add_argument("--no-progress", action="store_true", help="No progress bar.")
        actions.add_parser("openapi", help="Write the services' OpenAPI documents (YAML).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "openapi":
            for path in openapi_write():
                self.stdout.write(str(path))
            return
        self._generate(options)

    def _generate(self, options: dict[str, Any]) -> None:
        persons, companies = options["persons"], options["companies"]
        if persons < 0 or companies < 0:
            raise CommandError("--persons and --companies cannot be negative.")
        if companies and not persons:
            raise CommandError("Companies need persons to head them: give --persons too.")
        if options["demo_people"]:
            created = demo_people_ensure()
            self.stdout.write(
                f"Demo people: {created['persons']} persons and "
                f"{created['entities']} legal entities created."
            )
        if options["if_empty"] and generated_persons():
            self.stdout.write("The registers already hold generated persons: nothing generated.")
            return
        if not persons:
            return
        started = time.monotonic()
        with tqdm(
            total=persons,
            unit=" persons",
            disable=True if options["no_progress"] else None,
            file=self.stderr._out,
        ) as bar:
            try:
                result = registry_generate(
                    persons=persons,
                    companies=companies,
                    seed=options["seed"],
                    batch_size=options["batch_size"],
                    progress=bar.update,
                )
            except CapacityError as error:
                raise CommandError(str(error)) from error
        seconds = time.monotonic() - started
        self.stdout.write(
            f"Generated {result.persons} persons and {result.companies} companies "
            f"({result.rows} rows) in {seconds:.1f} s: "
            f"{result.rows / max(seconds, 1e-9):.0f} rows/s."
        )
