"""``egov backup --output FILE``: one archive of the running instance
(docs/backup-and-upgrades.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from egov.core.backup import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Write one compressed archive of this instance while it runs: the database, uploaded "
        "files, the PKI and the exchange folder (message logs, gateway files, credentials), "
        "keys and credentials encrypted with EGOV_BACKUP_PASSPHRASE. Restore with `egov "
        "restore FILE`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output", required=True, help="the archive to write (a new file, e.g. egov.tar.gz)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        def progress(step: str) -> None:
            if options["verbosity"] > 1:
                self.stderr.write(f"backing up {step}")

        try:
            summary = backup_create(
                output=Path(options["output"]),
                passphrase=getattr(settings, "BACKUP_PASSPHRASE", ""),
                progress=progress,
            )
        except BackupError as error:
            raise CommandError(str(error)) from error
        for line in summary.lines():
            self.stdout.write(line)
