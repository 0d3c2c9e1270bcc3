"""``egov documents get CODE FILE``: write an issued document found by its verification code
(for officials and support); ``egov documents sign-pending`` signs what is waiting now."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from egov.documents import selectors, services
from egov.documents.models import DocumentStatus, IssuedDocument


class Command(BaseCommand):
    help = "Issued documents: get one by its verification code, sign the pending ones."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="command", required=True)
        get = commands.add_parser("get", help="Write the signed PDF of a verification code.")
        get.add_argument("code", help="The code printed under the QR code (dashes optional).")
        get.add_argument("file", help="Where to write the PDF.")
        commands.add_parser("sign-pending", help="Sign every document still waiting, now.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["command"] == "sign-pending":
            pending = IssuedDocument.objects.filter(status=DocumentStatus.PENDING)
            for pk in pending.values_list("pk", flat=True):
                outcome = services.document_sign(document_id=pk)
                self.stdout.write(f"{pk}: {outcome}")
            return
        code = services.verification_code_normalise(options["code"])
        document = selectors.document_by_code(code) if code else None
        if document is None:
            raise CommandError("no signed document has this verification code")
        with document.file.open("rb") as handle:
            data = handle.read()
        target = Path(options["file"])
        try:
            target.write_bytes(data)
        except OSError as error:
            raise CommandError(f"{target}: {error.strerror or error}") from None
        self.stdout.write(f"{document.number}: {len(data)} bytes written to {target}")
