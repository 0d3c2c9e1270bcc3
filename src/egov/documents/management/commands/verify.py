"""``egov verify FILE.pdf``: check a signed PDF as /verify does; exit 0 only when valid."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from egov.documents import selectors
from egov.documents.verification import VerificationFailed, pdf_verify


class Command(BaseCommand):
    help = "Check a signed PDF document (signature, timestamp, certificate status, changes)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The PDF file to check.")
        parser.add_argument("--json", action="store_true", help="Print the facts as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"{path}: {error.strerror or error}") from None
        try:
            report = pdf_verify(data)
        except VerificationFailed as failed:
            raise CommandError(f"{path}: {failed.message}") from None
        facts = report.facts()
        document = selectors.document_by_digest(report.sha256)
        facts["document"] = (
            {"number": document.number, "kind": document.kind} if document is not None else None
        )
        if options["json"]:
            self.stdout.write(json.dumps(facts, ensure_ascii=False, indent=2))
        else:
            for key, value in facts.items():
                if key == "problems":
                    continue
                if key == "document" and value is not None:
                    value = f"{value['number']} ({value['kind']})"
                self.stdout.write(f"{key.replace('_', ' ')}: {value}")
            for problem in report.problems:
                self.stdout.write(f"problem: {problem}")
            self.stdout.write("VALID" if report.valid else "NOT VALID")
        if not report.valid:
            raise SystemExit(1)
