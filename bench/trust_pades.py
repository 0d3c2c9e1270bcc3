"""Benchmark of signed documents: PAdES B-LT signatures (the signature, an RFC 3161 timestamp
from the platform TSA in process, the OCSP answers and the CRL in the DSS) per second with the
key loaded, from a key file and through a PKCS#11 token (SoftHSM2, when installed), and full
validations per second (`egov verify`'s work: pyHanko's validator with the document's own
revocation data, then the certificate's status at signing and now), beside the raw cost of one
ECDSA P-256 signature with `cryptography` in the same run.

    .venv/bin/python bench/trust_pades.py [--quick]

Targets (issue 11): PAdES with a timestamp 50/s per core, validation 300/s. One process, one
core: the figures are per core. A scratch data folder (SQLite, its own PKI and token).
"""

from __future__ import annotations

import argparse
import json
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import demo_env  # noqa: E402

SOFTHSM = "/usr/lib/softhsm/libsofthsm2.so"
LABEL = "egov-bench"
FILE_KEY = "agency-bench-documents"
HSM_KEY = "agency-benchhsm-documents"


def _environment(data_dir: Path) -> dict[str, str]:
    env = demo_env(data_dir)
    if Path(SOFTHSM).exists():
        pin = secrets.token_hex(8)
        tokens = data_dir / "softhsm" / "tokens"
        tokens.mkdir(parents=True)
        config = data_dir / "softhsm" / "softhsm2.conf"
        config.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\n")
        env["SOFTHSM2_CONF"] = str(config)
        subprocess.run(
            [
                *("softhsm2-util", "--init-token", "--free", "--label", LABEL),
                *("--pin", pin, "--so-pin", secrets.token_hex(8)),
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        env.update(
            EGOV_PKI_PKCS11_MODULE=SOFTHSM,
            EGOV_PKI_PKCS11_TOKEN=LABEL,
            EGOV_PKI_PKCS11_PIN=pin,
            EGOV_PKI_PKCS11_KEYS=HSM_KEY,
        )
    return env


def run(quick: bool = False) -> list[dict]:
    """The measures, made in a process of its own (settings are per process)."""
    env = _environment(Path(tempfile.mkdtemp(prefix="egov-bench-pades-")))
    command = [sys.executable, __file__, "--worker"] + (["--quick"] if quick else [])
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if output.returncode:
        sys.stderr.write(output.stderr[-4000:])
        return [{"measure": "failed", "value": output.returncode}]
    return json.loads(output.stdout.strip().splitlines()[-1])


def _rate(function: Any, seconds: float, at_least: int) -> tuple[float, int]:
    """Calls per second of ``function`` over about ``seconds`` (and ``at_least`` calls)."""
    count = 0
    started = time.perf_counter()
    while True:
        function()
        count += 1
        elapsed = time.perf_counter() - started
        if count >= at_least and elapsed >= seconds:
            return count / elapsed, count


def _setup() -> None:
    from django.conf import settings
    from django.core.management import call_command

    from egov.trust.pki import certificate_issue, pki_init

    call_command("migrate", verbosity=0)
    directory = Path(settings.PKI_DIR)
    pki_init(directory=directory, instance="XX")
    for name, profile, common_name in (
        ("ocsp", "ocsp-responder", "egov ocsp"),
        ("tsa", "tsa", "egov tsa"),
        (FILE_KEY, "document-signing", "Bench agency"),
    ):
        certificate_issue(
            directory=directory,
            profile=profile,
            common_name=common_name,
            organization="Bench agency",
            name=name,
            base_url=settings.PORTAL_BASE_URL,
        )
    if settings.PKI_PKCS11_KEYS:
        from egov.trust.setup import platform_certificate_issue

        platform_certificate_issue(
            profile="document-signing",
            name=HSM_KEY,
            common_name="Bench agency (token)",
            organization="Bench agency",
            pkcs11=True,
        )


def _document() -> bytes:
    from django.utils import timezone

    from egov.documents.rendering import DocumentContent, document_pdf, verification_url

    now = timezone.now()
    return document_pdf(
        DocumentContent(
            kind="decision",
            language="be",
            number="BENCH-2026-D000001",
            issued_on=now,
            agency_name="Bench agency",
            agency_address="Minsk",
            applicant_name="Ганна Мароз",
            on_behalf_unp="",
            application_number="BENCH-2026-000001",
            submitted_at=now,
            service_name="Даведка",
            decision_text="Рашэнне прынята.",
            signatory_name="Bench agency",
            signatory_role="Electronic seal of the agency",
            verification_url=verification_url("0123456789ABCDEF"),
            code_display="0123-4567-89AB-CDEF",
        )
    )


def _worker(quick: bool) -> list[dict]:
    import django

    django.setup()
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from django.conf import settings

    from egov.documents.credentials import document_key
    from egov.documents.signing import pdf_sign
    from egov.documents.verification import pdf_verify

    _setup()
    seconds, at_least = (2.0, 5) if quick else (10.0, 50)
    rows: list[dict] = []
    pdf = _document()
    rows.append({"measure": "document rendered (WeasyPrint)", "value": len(pdf), "unit": "bytes"})

    keys = [("file", FILE_KEY)]
    if settings.PKI_PKCS11_KEYS:
        keys.append(("PKCS#11 (SoftHSM2)", HSM_KEY))
    signed = b""
    for label, name in keys:
        key = document_key(name)  # loaded once: the measure is the signing, not the loading
        signed = pdf_sign(pdf, key=key).pdf  # warm-up (caches, the first TSA serial block)
        rate, count = _rate(lambda key=key: pdf_sign(pdf, key=key), seconds, at_least)
        signed = pdf_sign(pdf, key=key).pdf  # as every document after the first is made
        rows.append(
            {
                "measure": f"PAdES B-LT with timestamp, key {label}",
                "value": rate,
                "unit": "signatures/s",
                "n": count,
                "target": 50,
            }
        )

    report = pdf_verify(signed)
    assert report.valid, report.problems
    rate, count = _rate(lambda: pdf_verify(signed), seconds, at_least)
    rows.append(
        {
            "measure": "validation (egov verify)",
            "value": rate,
            "unit": "validations/s",
            "n": count,
            "target": 300,
        }
    )

    private_key = ec.generate_private_key(ec.SECP256R1())
    message = b"x" * 32
    rate, count = _rate(
        lambda: private_key.sign(message, ec.ECDSA(hashes.SHA256())), seconds / 4, 1000
    )
    rows.append(
        {"measure": "raw ECDSA P-256 sign (cryptography)", "value": rate, "unit": "signatures/s"}
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="about 2 s per measure")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(_worker(args.quick)))
        return
    from bench.trust import print_rows

    print_rows("PAdES signed documents", run(quick=args.quick))


if __name__ == "__main__":
    main()
