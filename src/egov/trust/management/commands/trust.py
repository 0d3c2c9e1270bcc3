"""``egov trust setup``: the certificates the platform itself signs with (idempotent)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from egov.trust.keys import SigningKeyMissing
from egov.trust.pki import PkiError
from egov.trust.setup import Agency, trust_setup


def catalogue_agencies() -> list[Agency]:
    """Every agency of the catalogue. The catalogue sits above the trust services, so its
    model is looked up by name rather than imported."""
    model = apps.get_model("catalog", "Agency")
    return [
        Agency(code=code, name=name, short_name=short_name)
        for code, name, short_name in model.objects.values_list("code", "name", "short_name")
    ]


class Command(BaseCommand):
    help = (
        "Trust services: `setup` issues the OCSP responder's, the TSA's, the audit ledger's and "
        "each agency's document-signing certificate where none is in force."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", required=True)
        commands.add_parser("setup", help="issue what the platform signs with (idempotent)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            issued = trust_setup(agencies=catalogue_agencies(), actor="egov trust setup")
        except (PkiError, SigningKeyMissing) as error:
            raise CommandError(str(error)) from None
        except DatabaseError as error:
            raise CommandError(f"the audit ledger cannot be written: {error}") from None
        for certificate in issued:
            self.stdout.write(f"issued {certificate.name} serial={certificate.serial}")
        self.stdout.write(f"trust services ready: {len(issued)} certificates issued")
