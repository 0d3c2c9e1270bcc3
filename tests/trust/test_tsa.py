"""The RFC 3161 timestamp authority: replies that outside tools accept, rejections for what
it cannot serve, serial numbers that never repeat."""

from __future__ import annotations

import hashlib
import io
import subprocess
import threading
from pathlib import Path

import pytest
from asn1crypto import algos, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from django.test import Client

from egov.trust import models, tsa
from egov.trust.models import TimestampSerialCounter
from egov.trust.pki import certificate_issue, key_passphrase, load_certificate, pki_init
from egov.trust.tsa import (
    TimestampError,
    local_timestamper,
    nonce_new,
    reply_token,
    timestamp_query,
    timestamp_respond,
    token_check,
)

POLICY = "1.3.6.1.4.1.32473.11.1"


@pytest.fixture(scope="module")
def platform_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("tsa") / "pki"
    pki_init(directory=directory)
    certificate_issue(
        directory=directory, profile="tsa", common_name="egov TSA", organization="egov", name="tsa"
    )
    certificate_issue(
        directory=directory,
        profile="document-signing",
        common_name="Agency documents",
        organization="egov",
        name="documents",
    )
    return directory


@pytest.fixture
def pki(platform_pki: Path, settings) -> Path:  # type: ignore[no-untyped-def]
    settings.PKI_DIR = platform_pki
    settings.TSA_POLICY_OID = POLICY
    settings.TSA_ACCURACY_SECONDS = 1
    # A block of serials taken in an earlier test's (rolled back) transaction is not reused.
    models._block.serials = range(0)
    return platform_pki


def _reply(der: bytes) -> tsp.TimeStampResp:
    return tsa.TimestampReply.load(der)


def _status(der: bytes) -> tuple[str, set[str]]:
    status = _reply(der)["status"]
    return status["status"].native, set(status["fail_info"].native or ())


def _root(pki: Path) -> x509.Certificate:
    return load_certificate(pki / "root.cert.pem")


@pytest.mark.django_db
def test_reply_carries_the_query_and_the_authority_facts(pki):
    digest = hashlib.sha384(b"a decision").digest()
    nonce = nonce_new()
    reply = _reply(timestamp_respond(timestamp_query(digest, algorithm="sha384", nonce=nonce)))
    assert reply["status"]["status"].native == "granted"
    signed = reply["time_stamp_token"]["content"]
    info = signed["encap_content_info"]["content"].parsed
    assert info["policy"].native == POLICY
    assert info["nonce"].native == nonce
    assert info["accuracy"].native == {"seconds": 1, "millis": None, "micros": None}
    assert info["message_imprint"]["hash_algorithm"]["algorithm"].native == "sha384"
    assert info["message_imprint"]["hashed_message"].native == digest
    tsa_certificate = load_certificate(pki / "issued" / "tsa.cert.pem")
    included = [item.chosen for item in signed["certificates"]]
    assert (
        included[0].sha256
        == hashlib.sha256(
            tsa_certificate.public_bytes(
                __import__(
                    "cryptography.hazmat.primitives.serialization", fromlist=["Encoding"]
                ).Encoding.DER
            )
        ).digest()
    )
    attributes = {
        item["type"].native: item["values"][0] for item in signed["signer_infos"][0]["signed_attrs"]
    }
    ess = attributes["signing_certificate_v2"]["certs"][0]
    assert ess["cert_hash"].native == included[0].sha256
    assert ess["issuer_serial"]["serial_number"].native == tsa_certificate.serial_number
    checked = token_check(reply["time_stamp_token"].dump(), authorities=[_root(pki)])
    assert (checked.policy, checked.digest, checked.algorithm) == (POLICY, digest, "sha384")


@pytest.mark.django_db
def test_without_cert_req_the_reply_holds_no_certificate(pki):
    query = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": b"\x01" * 32,
            },
        }
    )
    reply = _reply(timestamp_respond(query.dump()))
    assert reply["status"]["status"].native == "granted"
    assert reply["time_stamp_token"]["content"]["certificates"].native is None


def _query(algorithm: str, digest: bytes, **extra) -> bytes:  # type: ignore[no-untyped-def]
    return tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": algos.DigestAlgorithm({"algorithm": algorithm}),
                "hashed_message": digest,
            },
            **extra,
        }
    ).dump()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "fail_info"),
    [
        (_query("sha1", b"\x00" * 20), "bad_alg"),
        (_query("md5", b"\x00" * 16), "bad_alg"),
        (_query("sha256", b"\x00" * 20), "bad_data_format"),
        (_query("sha256", b"\x00" * 32, req_policy="1.2.3.4"), "unaccepted_policy"),
        (b"garbage", "bad_request"),
        (b"", "bad_request"),
        (b"\x30\x03\x02\x01\x01", "bad_request"),
        (_query("sha256", b"\x00" * 32)[:-3], "bad_request"),
    ],
    ids=["sha1", "md5", "short-digest", "other-policy", "garbage", "empty", "not-a-query", "cut"],
)
def test_a_query_it_cannot_serve_is_rejected_and_uses_no_serial(pki, query, fail_info):
    timestamp_respond(_query("sha256", b"\x00" * 32))  # the block of serials is taken
    before = TimestampSerialCounter.objects.get().next_serial
    status, failures = _status(timestamp_respond(query))
    assert (status, failures) == ("rejection", {fail_info})
    assert TimestampSerialCounter.objects.get().next_serial == before


@pytest.mark.django_db
def test_without_its_certificate_the_tsa_answers_system_failure(tmp_path, settings):
    settings.PKI_DIR = tmp_path / "empty"
    pki_init(directory=settings.PKI_DIR)
    assert _status(timestamp_respond(_query("sha256", b"\x00" * 32))) == (
        "rejection",
        {"system_failure"},
    )


@pytest.mark.django_db
def test_openssl_reads_and_verifies_the_reply(pki, tmp_path):
    data = tmp_path / "data.bin"
    data.write_bytes(b"the sealed head of a message log")
    (tmp_path / "query.tsq").write_bytes(
        timestamp_query(hashlib.sha256(data.read_bytes()).digest(), nonce=nonce_new())
    )
    # The query openssl itself makes, too.
    subprocess.run(
        [
            "openssl",
            "ts",
            "-query",
            "-data",
            str(data),
            "-sha512",
            "-cert",
            "-out",
            str(tmp_path / "openssl.tsq"),
        ],
        check=True,
        capture_output=True,
    )
    for name in ("query.tsq", "openssl.tsq"):
        reply = tmp_path / f"{name}.tsr"
        reply.write_bytes(timestamp_respond((tmp_path / name).read_bytes()))
        text = subprocess.run(
            ["openssl", "ts", "-reply", "-in", str(reply), "-text"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        assert "Status: Granted." in text
        assert f"Policy OID: {POLICY}" in text
        assert "Accuracy: 0x01 seconds" in text
        verified = subprocess.run(
            [
                "openssl",
                "ts",
                "-verify",
                "-in",
                str(reply),
                "-queryfile",
                str(tmp_path / name),
                "-CAfile",
                str(pki / "root.cert.pem"),
            ],
            capture_output=True,
            text=True,
        )
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "Verification: OK" in verified.stdout
    other = tmp_path / "other.bin"
    other.write_bytes(b"something else")
    refused = subprocess.run(
        [
            "openssl",
            "ts",
            "-verify",
            "-in",
            str(tmp_path / "query.tsq.tsr"),
            "-data",
            str(other),
            "-CAfile",
            str(pki / "root.cert.pem"),
        ],
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0


@pytest.mark.django_db
def test_pyhanko_signs_a_pdf_with_the_local_timestamper_and_validates_the_timestamp(pki):
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import signers
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext
    from weasyprint import HTML

    pdf = HTML(string="<p>Decision</p>").write_pdf()
    issued = pki / "issued"
    signer = signers.SimpleSigner.load(
        str(issued / "documents.key.pem"),
        str(issued / "documents.cert.pem"),
        ca_chain_files=(str(pki / "issuing.cert.pem"),),
        key_passphrase=key_passphrase(),  # keys at rest are encrypted (EGOV_PKI_KEY_PASSPHRASE)
    )
    assert signer is not None
    output = io.BytesIO()

    def sign() -> None:  # pyHanko runs its own event loop: in a thread of its own
        signers.sign_pdf(
            IncrementalPdfFileWriter(io.BytesIO(pdf)),
            signers.PdfSignatureMetadata(field_name="Signature"),
            signer=signer,
            timestamper=local_timestamper(),
            output=output,
        )

    # Serials reserved in this test's transaction; the thread's own connection could not
    # write beside it on the test database.
    models.timestamp_serial_next()
    thread = threading.Thread(target=sign)
    thread.start()
    thread.join()
    root = asn1_x509.Certificate.load(
        _root(pki).public_bytes(
            __import__(
                "cryptography.hazmat.primitives.serialization", fromlist=["Encoding"]
            ).Encoding.DER
        )
    )
    statuses = []

    def validate() -> None:
        reader = PdfFileReader(io.BytesIO(output.getvalue()))
        context = ValidationContext(trust_roots=[root], allow_fetching=False)
        statuses.append(validate_pdf_signature(reader.embedded_signatures[0], context))

    thread = threading.Thread(target=validate)
    thread.start()
    thread.join()
    status = statuses[0]
    assert status.intact and status.valid
    assert status.timestamp_validity is not None
    assert status.timestamp_validity.intact and status.timestamp_validity.valid
    assert status.timestamp_validity.trusted


SERIALS_SCRIPT = """
import hashlib, sys
from concurrent.futures import ThreadPoolExecutor
import django
django.setup()
from asn1crypto import tsp
from egov.trust.tsa import TimestampReply, timestamp_query, timestamp_respond

def serial(n):
    query = timestamp_query(hashlib.sha256(str(n).encode()).digest())
    token = TimestampReply.load(timestamp_respond(query))["time_stamp_token"]
    return token["content"]["encap_content_info"]["content"].parsed["serial_number"].native

with ThreadPoolExecutor(max_workers=4) as pool:
    print(" ".join(str(number) for number in pool.map(serial, range(int(sys.argv[1])))))
"""


def test_serials_never_repeat_across_processes_threads_and_restarts(platform_pki, tmp_path):
    """Real processes on one database file, each answering from several threads; then the
    same again, as after a restart."""
    import os
    import sys

    environment = {
        **os.environ,
        "EGOV_DEMO": "true",
        "EGOV_DATA_DIR": str(tmp_path),
        "EGOV_PKI_DIR": str(platform_pki),
        "DJANGO_SETTINGS_MODULE": "egov.settings",
    }
    environment.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "django", "migrate", "-v0"], env=environment, check=True)
    served: list[int] = []
    for _round in range(2):
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", SERIALS_SCRIPT, "130"],
                env=environment,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        for process in processes:
            output, _ = process.communicate(timeout=120)
            assert process.returncode == 0
            served += [int(number) for number in output.split()]
    assert len(served) == 2 * 3 * 130
    assert len(set(served)) == len(served)


@pytest.mark.django_db
def test_token_check_catches_an_altered_token_and_a_foreign_authority(pki, tmp_path):
    digest = hashlib.sha256(b"head").digest()
    nonce = nonce_new()
    token = reply_token(
        timestamp_respond(timestamp_query(digest, nonce=nonce)), digest=digest, nonce=nonce
    )
    token_check(token, authorities=[_root(pki)])
    position = token.find(digest)
    altered = token[:position] + bytes([token[position] ^ 1]) + token[position + 1 :]
    with pytest.raises(TimestampError, match="altered"):
        token_check(altered, authorities=[_root(pki)])
    other = tmp_path / "other"
    pki_init(directory=other)
    with pytest.raises(TimestampError, match="does not chain"):
        token_check(token, authorities=[load_certificate(other / "root.cert.pem")])
    with pytest.raises(TimestampError, match="another imprint"):
        reply_token(
            timestamp_respond(timestamp_query(digest, nonce=nonce)),
            digest=b"\x00" * 32,
            nonce=nonce,
        )
    with pytest.raises(TimestampError, match="refused"):
        reply_token(timestamp_respond(b"garbage"), digest=digest, nonce=nonce)


@pytest.mark.django_db
def test_http_endpoint(pki):
    client = Client()
    query = timestamp_query(hashlib.sha256(b"x").digest(), nonce=nonce_new())
    response = client.post("/trust/tsa", data=query, content_type="application/timestamp-query")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/timestamp-reply"
    assert response["Cache-Control"] == "no-store"
    assert _status(response.content) == ("granted", set())
    garbage = client.post(
        "/trust/tsa", data=b"nonsense", content_type="application/timestamp-query"
    )
    assert garbage.status_code == 200
    assert _status(garbage.content) == ("rejection", {"bad_request"})
    wrong = client.post("/trust/tsa", data=query, content_type="application/octet-stream")
    assert wrong.status_code == 415
    huge = client.post(
        "/trust/tsa",
        data=b"\x30" * (tsa.MAX_QUERY_BYTES + 1),
        content_type="application/timestamp-query",
    )
    assert huge.status_code == 413
    assert client.get("/trust/tsa").status_code == 405
