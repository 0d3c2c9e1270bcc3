"""``egov pki``: the platform PKI from the command line.

``egov pki root init|sign`` are for the machine that keeps the root CA offline: they use only
the folder given with ``--dir`` and no database.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from egov.trust.keys import SigningKeyMissing
from egov.trust.pki import (
    PROFILES,
    PkiError,
    certificate_pem,
    certificates_list,
    issuing_import,
    key_passphrase,
    keys_encrypt,
    root_init,
    root_sign,
)
from egov.trust.pki.ca import ISSUING_CSR


def _serial(value: str) -> int:
    """A serial in decimal, or in hex with ``0x`` or colons (as openssl prints it)."""
    value = value.strip()
    if value.lower().startswith("0x"):
        return int(value, 16)
    if ":" in value:
        return int(value.replace(":", ""), 16)
    return int(value)


class Command(BaseCommand):
    help = (
        "The platform PKI: init, issue, revoke, list, crl, encrypt-keys, import-issuing; "
        "root init|sign on the offline root's machine."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--dir", type=Path, default=None, help="PKI folder (default: EGOV_PKI_DIR)"
        )
        commands = parser.add_subparsers(dest="subcommand", required=True)
        init = commands.add_parser("init", help="create the root and issuing CAs (idempotent)")
        init.add_argument(
            "--instance", default=None, help="default: the exchange instance (EGOV_EXCHANGE_CLIENT)"
        )
        init.add_argument(
            "--offline-root",
            action="store_true",
            help="make only the issuing CA's key and a request (issuing.csr.pem) for a root "
            "kept on another machine",
        )
        issue = commands.add_parser("issue", help="issue an end-entity certificate")
        issue.add_argument("--profile", required=True, choices=sorted(PROFILES))
        issue.add_argument("--name", required=True, help="file name under issued/")
        issue.add_argument("--cn", required=True, help="subject common name")
        issue.add_argument("--org", default="", help="subject organisation")
        issue.add_argument("--ip", action="append", default=[], help="IP address SAN (repeat)")
        issue.add_argument("--dns", action="append", default=[], help="DNS name SAN (repeat)")
        issue.add_argument("--given-name", default="", help="a person's given name")
        issue.add_argument("--surname", default="", help="a person's surname")
        issue.add_argument(
            "--personal-number",
            default="",
            help="a person's number (serialNumber PNO<country>-...)",
        )
        issue.add_argument("--title", default="", help="an official's title or role")
        issue.add_argument(
            "--pkcs11",
            action="store_true",
            help="make the key pair in the PKCS#11 token (EGOV_PKI_PKCS11_*) under the name",
        )
        revoke = commands.add_parser("revoke", help="revoke a certificate and re-issue the CRL")
        revoke.add_argument("--serial", required=True, type=_serial)
        revoke.add_argument("--reason", default="unspecified", help="e.g. key_compromise")
        listing = commands.add_parser("list", help="the issued certificates")
        listing.add_argument("--json", action="store_true", help="print the index as JSON")
        commands.add_parser("crl", help="re-issue the CRL")
        commands.add_parser(
            "encrypt-keys", help="rewrite unencrypted key files with EGOV_PKI_KEY_PASSPHRASE"
        )
        importing = commands.add_parser(
            "import-issuing", help="install the offline root's certificate for the issuing CA"
        )
        importing.add_argument("certificate", type=Path, help="the issuing CA's certificate (PEM)")
        importing.add_argument("--root", required=True, type=Path, help="the root's certificate")
        root = commands.add_parser("root", help="on the offline root's machine")
        root_commands = root.add_subparsers(dest="root_command", required=True)
        root_init_parser = root_commands.add_parser("init", help="create the root CA (idempotent)")
        root_init_parser.add_argument("--instance", default=None)
        sign = root_commands.add_parser("sign", help="sign an issuing CA's request")
        sign.add_argument("request", type=Path, help="issuing.csr.pem")
        sign.add_argument("--out", required=True, type=Path, help="where to write the certificate")

    def handle(self, *args: Any, **options: Any) -> None:
        directory = Path(options["dir"] or settings.PKI_DIR).resolve()
        subcommand = options["subcommand"]
        try:
            handler = getattr(self, "_" + subcommand.replace("-", "_"))
            handler(directory, options)
        except (PkiError, KeyError, SigningKeyMissing) as error:
            raise CommandError(str(error).strip("'\"")) from None
        except OSError as error:
            raise CommandError(f"{error.filename or ''}: {error.strerror or error}") from None
        except DatabaseError as error:
            raise CommandError(f"the audit ledger cannot be written: {error}") from None

    def _init(self, directory: Path, options: dict[str, Any]) -> None:
        from egov.trust.setup import platform_pki_init

        platform_pki_init(
            offline_root=options["offline_root"],
            directory=directory,
            instance=options["instance"],
            actor="egov pki",
        )
        if (directory / ISSUING_CSR).exists() and not (directory / "issuing.cert.pem").exists():
            self.stdout.write(
                f"issuing CA key made; take {directory / ISSUING_CSR} to the offline root "
                "(`egov pki root sign`) and bring back its answer (`egov pki import-issuing`)"
            )
        else:
            self.stdout.write(f"PKI ready in {directory}")

    def _issue(self, directory: Path, options: dict[str, Any]) -> None:
        from egov.trust.setup import platform_certificate_issue

        attributes: dict[str, Any] = {
            "given_name": options["given_name"],
            "surname": options["surname"],
            "personal_number": options["personal_number"],
            "title": options["title"],
        }
        if options["ip"]:
            attributes["ip_addresses"] = options["ip"]
        if options["dns"]:
            attributes["dns_names"] = options["dns"]
        issued = platform_certificate_issue(
            profile=options["profile"],
            name=options["name"],
            common_name=options["cn"],
            organization=options["org"],
            pkcs11=options["pkcs11"],
            actor="egov pki",
            directory=directory,
            **attributes,
        )
        key = "in the PKCS#11 token" if options["pkcs11"] else str(issued.key_path)
        self.stdout.write(
            f"issued {issued.name} serial={issued.serial} sha256={issued.fingerprint}\n"
            f"  key {key}\n  certificate {issued.certificate_path}"
        )

    def _revoke(self, directory: Path, options: dict[str, Any]) -> None:
        from egov.trust.setup import platform_certificate_revoke

        platform_certificate_revoke(
            serial=options["serial"],
            reason=options["reason"],
            actor="egov pki",
            directory=directory,
        )
        self.stdout.write(f"revoked {options['serial']}; CRL re-issued")

    def _list(self, directory: Path, options: dict[str, Any]) -> None:
        entries = certificates_list(directory=directory)
        if options["json"]:
            self.stdout.write(json.dumps(entries, indent=2))
            return
        for entry in entries:
            state = f"revoked {entry['revoked_at']} ({entry['reason']})"
            self.stdout.write(
                f"{entry['serial']}\t{entry['name']}\t{entry['profile']}\t"
                f"{entry['subject']}\t{entry['not_after']}\t"
                f"{state if entry['revoked_at'] else 'valid'}"
            )

    def _crl(self, directory: Path, options: dict[str, Any]) -> None:
        from egov.trust.pki import crl_current
        from egov.trust.setup import platform_crl_issue

        platform_crl_issue(actor="egov pki", directory=directory)
        crl = crl_current(directory=directory)
        self.stdout.write(
            f"CRL re-issued: {len(list(crl))} revoked, next update "
            f"{crl.next_update_utc.isoformat() if crl.next_update_utc else '-'}"
        )

    def _encrypt_keys(self, directory: Path, options: dict[str, Any]) -> None:
        passphrase = key_passphrase()
        rewritten = keys_encrypt(directory=directory, passphrase=passphrase or b"")
        for path in rewritten:
            self.stdout.write(f"  {path}")
        self.stdout.write(f"{len(rewritten)} key files encrypted")

    def _import_issuing(self, directory: Path, options: dict[str, Any]) -> None:
        issuing_import(
            directory=directory,
            certificate_pem=options["certificate"].read_bytes(),
            root_pem=options["root"].read_bytes(),
        )
        self.stdout.write(f"issuing CA installed; PKI ready in {directory}")

    def _root(self, directory: Path, options: dict[str, Any]) -> None:
        if options["root_command"] == "init":
            root = root_init(
                directory=directory,
                instance=options["instance"] or settings.PKI_INSTANCE,
                country=settings.PKI_COUNTRY,
                root_name=settings.PKI_ROOT_NAME,
                organization=settings.PKI_ORGANIZATION,
            )
            self.stdout.write(f"root CA in {directory}: {root.subject.rfc4514_string()}")
            return
        certificate = root_sign(directory=directory, request_pem=options["request"].read_bytes())
        options["out"].write_text(certificate_pem(certificate), encoding="ascii")
        self.stdout.write(
            f"issuing CA certificate written to {options['out']}; bring it and "
            f"{directory / 'root.cert.pem'} back (`egov pki import-issuing`)"
        )
