"""``egov signer``: run the local e-ID program (docs/trust.md)."""

from __future__ import annotations

import asyncio
import contextlib
from argparse import ArgumentParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from egov.trust.signer import (
    DEFAULT_PORT,
    EidError,
    Pkcs11Eid,
    Signer,
    SignerStartError,
    eids_from_paths,
    origin_normalise,
    signer_serve,
)


def _default_port() -> int:
    try:
        return urlsplit(settings.SIGNER_URL).port or DEFAULT_PORT
    except ValueError:
        return DEFAULT_PORT


class Command(BaseCommand):
    help = (
        "Run egov signer on 127.0.0.1: the portal's pages ask it to log in with an e-ID or to "
        "sign, and the person allows it on the signer's own page."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--port", type=int, default=None, help="default: EGOV_SIGNER_URL's")
        parser.add_argument("--host", default="127.0.0.1", help="loopback only (127.0.0.1, ::1)")
        parser.add_argument(
            "--pkcs12", type=Path, action="append", default=[], help="an e-ID file (repeat)"
        )
        parser.add_argument("--pkcs12-dir", type=Path, default=None, help="a folder of *.p12")
        parser.add_argument("--pkcs11-module", default="", help="the token's PKCS#11 library")
        parser.add_argument("--token", default="", help="label of the PKCS#11 token")
        parser.add_argument(
            "--allow-origin",
            action="append",
            default=[],
            help="a portal allowed to ask (repeat); default: EGOV_BASE_URL's origin",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        paths = list(options["pkcs12"])
        if options["pkcs12_dir"] is not None:
            if not options["pkcs12_dir"].is_dir():
                raise CommandError(f"{options['pkcs12_dir']} is not a folder")
            paths.append(options["pkcs12_dir"])
        missing = [str(path) for path in paths if not path.exists()]
        if missing:
            raise CommandError(f"no such file: {', '.join(missing)}")
        eids, problems = eids_from_paths(paths)
        for problem in problems:
            self.stderr.write(f"skipped {problem}")
        if bool(options["pkcs11_module"]) != bool(options["token"]):
            raise CommandError("--pkcs11-module and --token go together")
        if options["pkcs11_module"]:
            try:
                eids.append(
                    Pkcs11Eid(module=options["pkcs11_module"], token_label=options["token"])
                )
            except EidError as error:
                raise CommandError(str(error)) from None
        origins = options["allow_origin"] or [settings.PORTAL_BASE_URL]
        bad = [origin for origin in origins if origin_normalise(origin) is None]
        if bad:
            raise CommandError(f"not an origin (https://host[:port]): {', '.join(bad)}")
        signer = Signer(eids=eids, allowed_origins=origins)
        port = options["port"] if options["port"] is not None else _default_port()
        portals = ", ".join(sorted(signer.allowed_origins))
        self.stdout.write(
            f"egov signer on http://127.0.0.1:{port}/ for {portals} "
            f"with {len(eids)} e-ID(s); Ctrl+C stops it"
        )
        try:
            with contextlib.suppress(KeyboardInterrupt):
                asyncio.run(signer_serve(signer, host=options["host"], port=port))
        except SignerStartError as error:
            raise CommandError(str(error)) from None
