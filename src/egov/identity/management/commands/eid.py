"""``egov eid issue``: support staff issue a person an e-ID file, as an official issues an
ID card (docs/trust.md)."""

from __future__ import annotations

import getpass
import os
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from egov.core.errors import ApplicationError
from egov.identity.eid import eid_issue
from egov.identity.models import User
from egov.trust.pki import PkiError


class Command(BaseCommand):
    help = "Issue a person an e-ID: a PKCS#12 file with their authentication and signing keys."

    def add_arguments(self, parser: ArgumentParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", required=True)
        issue = commands.add_parser("issue", help="issue an e-ID file to a person")
        issue.add_argument("--personal-number", required=True)
        issue.add_argument("--out", type=Path, required=True, help="the .p12 file to write")
        issue.add_argument(
            "--password-file",
            type=Path,
            default=None,
            help="read the file's password from here (default: asked twice)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        number = options["personal_number"].strip().upper()
        user = User.objects.filter(personal_number=number).first()
        if user is None:
            raise CommandError(f"no account has the identification number {number}")
        out: Path = options["out"]
        if out.exists():
            raise CommandError(f"{out} exists; choose another file")
        if options["password_file"] is not None:
            password = options["password_file"].read_text(encoding="utf-8").rstrip("\n")
        else:
            password = getpass.getpass("Password of the e-ID file: ")
            if getpass.getpass("The same again: ") != password:
                raise CommandError("the two passwords differ")
        try:
            data = eid_issue(user=user, password=password, actor="egov-eid-command")
        except ApplicationError as error:
            raise CommandError(error.message) from None
        except PkiError as error:
            raise CommandError(str(error)) from None
        descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        self.stdout.write(self.style.SUCCESS(f"e-ID of user {user.pk} written to {out}"))
