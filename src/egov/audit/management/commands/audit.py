"""``egov audit verify | proof ENTRY_ID | verify-proof FILE | sign-head | sequence``.

``verify`` recomputes the whole ledger and exits non-zero naming the first bad entry;
``proof`` prints an entry's inclusion proof in a signed tree head as JSON; ``verify-proof``
checks such a file offline (no database is opened); ``sign-head`` signs a tree head now.
"""

from __future__ import annotations

import json
import sys
import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "The audit ledger: verify it, print or check an entry's proof, sign a tree head."
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: ArgumentParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        commands.add_parser("verify", help="Recompute every entry, the tree and every head.")
        proof = commands.add_parser("proof", help="Print an entry's inclusion proof as JSON.")
        proof.add_argument("entry_id", type=int)
        check = commands.add_parser("verify-proof", help="Check a proof file offline.")
        check.add_argument("file", help="The proof (JSON); - reads standard input.")
        check.add_argument(
            "--ca",
            default="",
            help="PEM file of the certificate authority the tree head's signer must lead to "
            "(default: the platform's root, where this machine has the PKI).",
        )
        commands.add_parser("sign-head", help="Sign a tree head of the ledger as it is now.")
        commands.add_parser("sequence", help="Put the entries not yet in the tree into it.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "verify-proof":
            self._verify_proof(options["file"], options["ca"])
        elif action == "verify":
            self._verify()
        elif action == "proof":
            self._proof(options["entry_id"])
        elif action == "sign-head":
            from egov.audit.services import LedgerError, tree_head_sign

            try:
                head = tree_head_sign()
            except LedgerError as error:
                raise CommandError(str(error)) from None
            self.stdout.write(
                f"signed tree head {head.pk}: {head.tree_size} entries, root "
                f"{bytes(head.root_hash).hex()}"
            )
        elif action == "sequence":
            from egov.audit.services import entries_sequence

            self.stdout.write(f"{entries_sequence(wait=True)} entries sequenced")

    def _verify(self) -> None:
        from egov.audit.services import entries_sequence
        from egov.audit.verify import ledger_verify

        started = time.monotonic()
        entries_sequence(wait=True)
        report = ledger_verify()
        if not report.ok:
            raise CommandError(f"the ledger does not verify: {report.problems[0]}")
        self.stdout.write(
            f"the ledger verifies: {report.entries} entries, {report.heads} signed tree heads "
            f"({time.monotonic() - started:.1f} s)"
        )

    def _proof(self, entry_id: int) -> None:
        from egov.audit.models import Entry
        from egov.audit.services import LedgerError, entry_proof

        entry = Entry.objects.filter(pk=entry_id).first()
        if entry is None:
            raise CommandError(f"no ledger entry {entry_id}")
        try:
            proof = entry_proof(entry)
        except LedgerError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(json.dumps(proof, indent=2))

    @staticmethod
    def _platform_anchors() -> str:
        """The platform's root, where this machine has the PKI; otherwise --ca is needed."""
        from egov.audit.signing import head_trust_get

        trust = head_trust_get()
        try:
            anchors = trust.anchors() if trust is not None else ""
        except (OSError, ValueError):
            anchors = ""
        if not anchors:
            raise CommandError(
                "no platform PKI here: give --ca ROOT.pem, the certificate authority the "
                "tree head's signer must lead to"
            )
        return anchors

    def _verify_proof(self, file: str, ca: str) -> None:
        from egov.audit.verify import proof_verify

        try:
            text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
            anchors = Path(ca).read_text(encoding="utf-8") if ca else self._platform_anchors()
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"cannot read {ca or file}: {error}") from None
        try:
            proof = json.loads(text)
        except ValueError as error:
            raise CommandError(f"{file}: not JSON: {error}") from None
        result = proof_verify(proof, anchors=anchors)
        if not result.ok:
            raise CommandError(f"the proof does not verify: {result.reason}")
        entry = result.entry or {}
        self.stdout.write(
            f"the proof verifies: entry {proof.get('entry_id', '?')} ({entry.get('kind', '?')}"
            f", {entry.get('at', '?')}) is leaf {proof['leaf_index']} of the tree of "
            f"{proof['tree_size']} entries signed at {proof['tree_head']['timestamp']}"
        )
