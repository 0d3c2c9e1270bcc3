"""``egov restore FILE``: an archive of ``egov backup`` into this instance's empty database and
data folder (docs/backup-and-upgrades.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from egov.core.backup import BackupError
from egov.core.restore import backup_restore


class Command(BaseCommand):
    help = (
        "Restore an archive of `egov backup` into the configured database and data folder, "
        "both empty: every checksum and the passphrase (EGOV_BACKUP_PASSPHRASE) are checked "
        "before anything is written; an archive of an older release is migrated."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", help="the archive written by `egov backup`")

    def handle(self, *args: Any, **options: Any) -> None:
        def progress(step: str) -> None:
            if options["verbosity"] > 1:
                self.stderr.write(step)

        try:
            summary = backup_restore(
                archive_path=Path(options["archive"]),
                passphrase=getattr(settings, "BACKUP_PASSPHRASE", ""),
                progress=progress,
            )
        except BackupError as error:
            raise CommandError(str(error)) from error
        for line in summary.lines():
            self.stdout.write(line)
