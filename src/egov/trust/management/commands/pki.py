"""``egov pki``: the platform PKI from the command line."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from egov.trust.pki import (
    PROFILES,
    PkiError,
    certificate_issue,
    certificate_revoke,
    certificates_list,
    crl_issue,
    pki_init,
)


def _serial(value: str) -> int:
    """A serial in decimal, or in hex with ``0x`` or colons (as openssl prints it)."""
    value = value.strip()
    if value.lower().startswith("0x"):
        return int(value, 16)
    if ":" in value:
        return int(value.replace(":", ""), 16)
    return int(value)


class Command(BaseCommand):
    help = "The platform PKI: init, issue, revoke, list, crl."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--dir", type=Path, default=None, help="PKI folder (default: EGOV_PKI_DIR)"
        )
        commands = parser.add_subparsers(dest="subcommand", required=True)
        init = commands.add_parser("init", help="create the root and issuing CAs (idempotent)")
        init.add_argument("--instance", default="BY")
        issue = commands.add_parser("issue", help="issue an end-entity certificate")
        issue.add_argument("--profile", required=True, choices=sorted(PROFILES))
        issue.add_argument("--name", required=True, help="file name under issued/")
        issue.add_argument("--cn", required=True, help="subject common name")
        issue.add_argument("--org", default="", help="subject organisation")
        issue.add_argument("--ip", action="append", default=[], help="IP address SAN (repeat)")
        issue.add_argument("--dns", action="append", default=[], help="DNS name SAN (repeat)")
        revoke = commands.add_parser("revoke", help="revoke a certificate and re-issue the CRL")
        revoke.add_argument("--serial", required=True, type=_serial)
        revoke.add_argument("--reason", default="unspecified", help="e.g. key_compromise")
        listing = commands.add_parser("list", help="the issued certificates")
        listing.add_argument("--json", action="store_true", help="print the index as JSON")
        commands.add_parser("crl", help="re-issue the CRL")

    def handle(self, *args: Any, **options: Any) -> None:
        directory = Path(options["dir"] or settings.PKI_DIR).resolve()
        subcommand = options["subcommand"]
        try:
            if subcommand == "init":
                pki_init(directory=directory, instance=options["instance"])
                self.stdout.write(f"PKI ready in {directory}")
            elif subcommand == "issue":
                issued = certificate_issue(
                    directory=directory,
                    profile=options["profile"],
                    common_name=options["cn"],
                    organization=options["org"],
                    ip_addresses=options["ip"],
                    dns_names=options["dns"],
                    name=options["name"],
                )
                self.stdout.write(
                    f"issued {issued.name} serial={issued.serial} "
                    f"sha256={issued.fingerprint}\n"
                    f"  key {issued.key_path}\n  certificate {issued.certificate_path}"
                )
            elif subcommand == "revoke":
                certificate_revoke(
                    directory=directory, serial=options["serial"], reason=options["reason"]
                )
                self.stdout.write(f"revoked {options['serial']}; CRL re-issued")
            elif subcommand == "list":
                entries = certificates_list(directory=directory)
                if options["json"]:
                    self.stdout.write(json.dumps(entries, indent=2))
                for entry in [] if options["json"] else entries:
                    state = f"revoked {entry['revoked_at']} ({entry['reason']})"
                    self.stdout.write(
                        f"{entry['serial']}\t{entry['name']}\t{entry['profile']}\t"
                        f"{entry['subject']}\t{entry['not_after']}\t"
                        f"{state if entry['revoked_at'] else 'valid'}"
                    )
            elif subcommand == "crl":
                crl = crl_issue(directory=directory)
                self.stdout.write(
                    f"CRL re-issued: {len(list(crl))} revoked, next update "
                    f"{crl.next_update_utc.isoformat() if crl.next_update_utc else '-'}"
                )
        except (PkiError, KeyError) as error:
            raise CommandError(str(error)) from None
