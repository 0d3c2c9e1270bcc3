"""Benchmark of the OCSP responder: answers per second in process (``ocsp_response``, what
validation and document signing call), through Django's test client (the whole middleware
stack, no network) and over HTTP (``POST /trust/ocsp`` to ``egov serve``), and
validate_certificate per second (a first look, and again while the PKI is unchanged),
beside the raw cost of one ECDSA P-256 signature with `cryptography` in the same run (every
answer carries one).

    .venv/bin/python bench/trust_pki.py [--quick]

Target (issue 11): 1,000 OCSP answers per second.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import demo_env, post_rate, served  # noqa: E402

OCSP_REQUEST = "application/ocsp-request"


def _environment(data_dir: Path) -> dict[str, str]:
    return demo_env(data_dir)


def run(quick: bool = False) -> list[dict]:
    """The figures, measured in a process of its own (settings are per process)."""
    env = _environment(Path(tempfile.mkdtemp(prefix="egov-bench-pki-")))
    command = [sys.executable, __file__, "--worker"] + (["--quick"] if quick else [])
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if output.returncode:
        sys.stderr.write(output.stderr[-4000:])
        return [{"measure": "failed", "value": output.returncode, "unit": "exit code"}]
    return list(json.loads(output.stdout.strip().splitlines()[-1]))


def _rate(operation: Callable[[], object], seconds: float) -> float:
    operation()  # warm
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        operation()
        count += 1
    return count / elapsed


def _worker(quick: bool) -> list[dict]:
    import django

    django.setup()
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509 import ocsp
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from egov.trust.ocsp import ocsp_request, ocsp_response
    from egov.trust.pki import certificate_issue, load_certificate, pki_init
    from egov.trust.validation import cache_clear, validate_certificate

    directory = Path(settings.PKI_DIR)
    pki_init(directory=directory, instance=settings.PKI_INSTANCE)
    base = settings.PORTAL_BASE_URL
    certificate_issue(
        directory=directory,
        profile="ocsp-responder",
        common_name="OCSP",
        name="ocsp",
        base_url=base,
    )
    person = load_certificate(
        certificate_issue(
            directory=directory,
            profile="citizen-authentication",
            common_name="P",
            name="p",
            base_url=base,
        ).certificate_path
    )
    issuing = load_certificate(directory / "issuing.cert.pem")
    request = ocsp_request(person, issuing, nonce=os.urandom(16))
    assert (
        ocsp.load_der_ocsp_response(ocsp_response(request)).certificate_status
        is ocsp.OCSPCertStatus.GOOD
    )
    seconds = 1.0 if quick else 5.0
    key = ec.generate_private_key(ec.SECP256R1())
    data = b"x" * 200
    raw = _rate(lambda: key.sign(data, ec.ECDSA(hashes.SHA256())), seconds)
    in_process = _rate(lambda: ocsp_response(request), seconds)
    client = Client()

    def over_http() -> None:
        response = client.post("/trust/ocsp", data=request, content_type="application/ocsp-request")
        assert response.status_code == 200

    test_client = _rate(over_http, seconds)
    call_command("migrate", verbosity=0)
    requests = [
        ocsp_request(person, issuing, nonce=os.urandom(16)) for _ in range(600 if quick else 6000)
    ]
    with served(os.environ) as port:
        post_rate(port, "/trust/ocsp", requests[:40], content_type=OCSP_REQUEST, connections=4)
        http, failures = post_rate(
            port, "/trust/ocsp", requests, content_type=OCSP_REQUEST, connections=8
        )

    def first_validation() -> None:
        cache_clear()
        validate_certificate(person, [issuing], purpose="authentication")

    validations = _rate(first_validation, seconds)
    repeated = _rate(
        lambda: validate_certificate(person, [issuing], purpose="authentication"), seconds
    )
    rows = [
        {"measure": "ECDSA P-256 signature (cryptography)", "value": raw, "unit": "/s"},
        {
            "measure": "OCSP answers in process",
            "value": in_process,
            "unit": "/s",
            "ratio_to_raw": in_process / raw,
        },
        {
            "measure": "OCSP answers through the test client",
            "value": test_client,
            "unit": "/s",
            "ratio_to_raw": test_client / raw,
        },
        {
            "measure": "OCSP answers, POST /trust/ocsp to egov serve (8 connections)",
            "value": http,
            "unit": "/s",
            "ratio_to_raw": http / raw,
            "failures": failures,
        },
        {
            "measure": "validate_certificate (chain, usage, OCSP), first time",
            "value": validations,
            "unit": "/s",
            "ratio_to_raw": validations / raw,
        },
        {
            "measure": "validate_certificate again, the PKI unchanged (kept)",
            "value": repeated,
            "unit": "/s",
            "ratio_to_raw": repeated / raw,
        },
    ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs, for a first look")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(_worker(args.quick)))
        return
    from bench.trust import print_rows

    print_rows("pki", run(quick=args.quick))


if __name__ == "__main__":
    main()
