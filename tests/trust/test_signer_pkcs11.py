"""egov signer with the e-ID in a real PKCS#11 token (SoftHSM2 in a folder of its own): the
command started as a person starts it, the PIN typed in the consent page, the token signs
the login and the CMS; a wrong PIN signs nothing."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from egov.trust.signer import authentication_payload
from tests.conftest import ROOT
from tests.ports import free_port
from tests.trust.signer_support import call, eid_value, form_token, softhsm_token

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN = "citizen-eid"
PIN = "4321"
PORTAL = "http://127.0.0.1:8000"

pytestmark = pytest.mark.skipif(
    not Path(MODULE).exists(), reason=f"SoftHSM2 is not installed ({MODULE} is missing)"
)


@pytest.fixture(scope="module")
def signer_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("softhsm")
    config = softhsm_token(folder, label=TOKEN, pin=PIN, env=dict(os.environ))
    env = {**os.environ, "SOFTHSM2_CONF": str(config), "PYTHONPATH": str(ROOT)}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.trust.signer_token",
            MODULE,
            TOKEN,
            PIN,
            str(folder / "ca.pem"),
        ],
        check=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "egov.cli",
            "signer",
            "--port",
            str(port),
            "--pkcs11-module",
            MODULE,
            "--token",
            TOKEN,
            "--allow-origin",
            PORTAL,
        ],
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _attempt in range(100):
            try:
                if call(f"{url}/v1/status", headers={"Origin": PORTAL}).status == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None:
                raise RuntimeError("egov signer stopped")
            time.sleep(0.1)
        else:
            raise RuntimeError("egov signer did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _request(url: str, **body: str) -> str:
    answer = call(
        f"{url}/v1/requests",
        method="POST",
        headers={"Origin": PORTAL},
        body={"origin": PORTAL, **body},
    )
    assert answer.status == 201, answer.body
    return str(answer.json()["id"])


def _consent(url: str, request_id: str, pin: str):  # type: ignore[no-untyped-def]
    page = call(f"{url}/consent/{request_id}?lang=en")
    assert "Алена Каваленка, identification number 4150592M012PB5" in page.text
    return call(
        f"{url}/consent/{request_id}?lang=en",
        method="POST",
        headers={"Origin": url},
        form={
            "token": form_token(page.text),
            "eid": eid_value(page.text),
            "secret": pin,
            "action": "allow",
        },
    )


def _result(url: str, request_id: str):  # type: ignore[no-untyped-def]
    return call(f"{url}/v1/requests/{request_id}", headers={"Origin": PORTAL}).json()


def test_the_token_signs_the_login(signer_url: str) -> None:
    challenge = b"t" * 32
    request_id = _request(
        signer_url, kind="authenticate", challenge=base64.b64encode(challenge).decode()
    )
    assert "You are logged in with your e-ID" in _consent(signer_url, request_id, PIN).text
    body = _result(signer_url, request_id)
    assert body["status"] == "done"
    certificate = x509.load_pem_x509_certificate(body["certificate"].encode())
    public_key = certificate.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(
        base64.b64decode(body["signature"]),
        authentication_payload(PORTAL, challenge),
        ec.ECDSA(hashes.SHA256()),
    )
    assert "BEGIN CERTIFICATE" in body["chain"]


def test_the_token_signs_a_cms(signer_url: str) -> None:
    digest = hashlib.sha256(b"signed application").digest()
    request_id = _request(signer_url, kind="sign", digest=base64.b64encode(digest).decode())
    assert "Signed with your e-ID" in _consent(signer_url, request_id, PIN).text
    body = _result(signer_url, request_id)
    signer_info = cms.ContentInfo.load(base64.b64decode(body["cms"]))["content"]["signer_infos"][0]
    attributes = {a["type"].native: a["values"][0] for a in signer_info["signed_attrs"]}
    assert attributes["message_digest"].native == digest
    certificate = x509.load_pem_x509_certificate(body["certificate"].encode())
    public_key = certificate.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(
        signer_info["signature"].native,
        signer_info["signed_attrs"].untag().dump(),
        ec.ECDSA(hashes.SHA256()),
    )


def test_a_wrong_pin_signs_nothing(signer_url: str) -> None:
    request_id = _request(
        signer_url, kind="authenticate", challenge=base64.b64encode(b"w" * 32).decode()
    )
    answer = _consent(signer_url, request_id, "0000")
    assert answer.status == 400
    assert "The password or PIN is not right. Attempts left: 2." in answer.text
    assert _result(signer_url, request_id) == {"status": "pending"}
