"""Shared by the signer's tests: a small CA of its own, e-ID files, a signer on a free port
in a thread with its own event loop (the browser tests keep one in the main thread)."""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from egov.trust.signer import Signer, eid_pkcs12_write, signer_start


@dataclass
class TestCa:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate


def ca_make() -> TestCa:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test signer CA")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    return TestCa(key, certificate)


def eid_certificate(
    ca: TestCa,
    public_key: ec.EllipticCurvePublicKey,
    *,
    purpose: str,
    subject: x509.Name,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> x509.Certificate:
    """An e-ID certificate as the card's: ``authentication`` (digital signature, client
    authentication) or ``signing`` (non-repudiation)."""
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.certificate.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - timedelta(minutes=5))
        .not_valid_after(not_after or now + timedelta(days=30))
        .add_extension(
            x509.KeyUsage(
                digital_signature=purpose == "authentication",
                content_commitment=purpose == "signing",
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if purpose == "authentication":
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    return builder.sign(ca.key, hashes.SHA256())


def person_certificate(
    ca: TestCa, *, purpose: str, given_name: str, surname: str, personal_number: str
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "BY"),
            x509.NameAttribute(NameOID.SURNAME, surname),
            x509.NameAttribute(NameOID.GIVEN_NAME, given_name),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, f"PNOBY-{personal_number}"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{given_name} {surname}"),
        ]
    )
    return key, eid_certificate(ca, key.public_key(), purpose=purpose, subject=subject)


def eid_file(
    ca: TestCa, *, password: str, given_name: str, surname: str, personal_number: str
) -> bytes:
    entries = {
        purpose: person_certificate(
            ca,
            purpose=purpose,
            given_name=given_name,
            surname=surname,
            personal_number=personal_number,
        )
        for purpose in ("authentication", "signing")
    }
    return eid_pkcs12_write(entries=entries, chain=[ca.certificate], password=password)


class RunningSigner:
    """A signer served on 127.0.0.1 in a thread; ``url`` is its base address."""

    def __init__(self, signer: Signer) -> None:
        self.signer = signer
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.runner = self.loop.run_until_complete(signer_start(self.signer, port=0))
        except BaseException as error:
            self._error = error
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self.runner.cleanup())
        self.loop.close()

    def __enter__(self) -> RunningSigner:
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.signer.port}"


@dataclass
class Answer:
    status: int
    headers: Any
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode()


def call(
    url: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: Any = None,
    form: dict[str, str] | None = None,
) -> Answer:
    data: bytes | None = None
    headers = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode() if not isinstance(body, bytes) else body
        headers.setdefault("Content-Type", "application/json")
    if form is not None:
        from urllib.parse import urlencode

        data = urlencode(form).encode()
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Answer(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.headers, error.read())


def form_token(page: str) -> str:
    marker = 'name="token" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


def eid_value(page: str, index: int = 0) -> str:
    marker = f'id="eid-{index}" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


def softhsm_token(folder: Path, *, label: str, pin: str, env: dict[str, str]) -> Path:
    """A fresh SoftHSM2 token ``label`` with ``pin`` whose files are under ``folder``; its
    configuration file, for SOFTHSM2_CONF (``env`` is the environment softhsm2-util runs in)."""
    (folder / "tokens").mkdir()
    config = folder / "softhsm2.conf"
    config.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\n")
    subprocess.run(
        [
            *("softhsm2-util", "--init-token", "--free", "--label", label),
            *("--pin", pin, "--so-pin", secrets.token_hex(4)),
        ],
        check=True,
        capture_output=True,
        env={**env, "SOFTHSM2_CONF": str(config)},
    )
    return config
