"""egov signer's API and consent page: CORS for the portal's origin only, origin binding,
expiry, one answer, wrong passwords, and the signatures it gives."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

import pytest
from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from egov.trust.signer import (
    Pkcs12Eid,
    Signer,
    SignerStartError,
    authentication_payload,
    eid_pkcs12_open,
    signer_start,
)
from egov.trust.signer.server import MAX_ATTEMPTS, REQUEST_SECONDS, host_check
from tests.trust.signer_support import (
    RunningSigner,
    ca_make,
    call,
    eid_file,
    eid_value,
    form_token,
)

PORTAL = "http://127.0.0.1:8000"
PASSWORD = "citizen-eid-1"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def ca():
    return ca_make()


@pytest.fixture(scope="module")
def eid_path(ca, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("eid") / "4150592M012PB5.p12"
    path.write_bytes(
        eid_file(
            ca,
            password=PASSWORD,
            given_name="Алена",
            surname="Каваленка",
            personal_number="4150592M012PB5",
        )
    )
    return path


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def running(eid_path, clock):
    signer = Signer(eids=[Pkcs12Eid(path=eid_path)], allowed_origins=[PORTAL], clock=clock)
    with RunningSigner(signer) as server:
        yield server


def _create(running: RunningSigner, **overrides: object):
    body = {
        "kind": "authenticate",
        "origin": PORTAL,
        "challenge": base64.b64encode(b"c" * 32).decode(),
        "description": "Log in to egov",
    } | overrides
    return call(f"{running.url}/v1/requests", method="POST", headers={"Origin": PORTAL}, body=body)


def _consent(running: RunningSigner, request_id: str, *, secret: str, action: str = "allow"):
    page = call(f"{running.url}/consent/{request_id}?lang=en")
    return call(
        f"{running.url}/consent/{request_id}?lang=en",
        method="POST",
        headers={"Origin": running.url},
        form={
            "token": form_token(page.text),
            "eid": eid_value(page.text),
            "secret": secret,
            "action": action,
        },
    )


def _poll(running: RunningSigner, request_id: str):
    return call(f"{running.url}/v1/requests/{request_id}", headers={"Origin": PORTAL})


def test_status_answers_the_portal_with_cors(running) -> None:
    answer = call(f"{running.url}/v1/status", headers={"Origin": PORTAL})
    assert answer.status == 200
    assert answer.json()["ready"] is True
    assert answer.headers["Access-Control-Allow-Origin"] == PORTAL


def test_other_origins_get_no_cors_and_no_request(running) -> None:
    other = "http://evil.example"
    answer = call(f"{running.url}/v1/status", headers={"Origin": other})
    assert answer.status == 403
    assert "Access-Control-Allow-Origin" not in answer.headers
    preflight = call(
        f"{running.url}/v1/requests",
        method="OPTIONS",
        headers={"Origin": other, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status == 403
    assert "Access-Control-Allow-Origin" not in preflight.headers
    created = call(
        f"{running.url}/v1/requests",
        method="POST",
        headers={"Origin": other},
        body={"kind": "authenticate", "origin": other, "challenge": "Y2NjY2NjY2NjY2NjY2NjYw=="},
    )
    assert created.status == 403
    assert running.signer.requests == {}


def test_preflight_allows_the_portal_and_private_network(running) -> None:
    answer = call(
        f"{running.url}/v1/requests",
        method="OPTIONS",
        headers={
            "Origin": PORTAL,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Private-Network": "true",
        },
    )
    assert answer.status == 204
    assert answer.headers["Access-Control-Allow-Origin"] == PORTAL
    assert answer.headers["Access-Control-Allow-Private-Network"] == "true"
    assert "Content-Type" in answer.headers["Access-Control-Allow-Headers"]


def test_a_declared_origin_other_than_the_page_is_refused(running) -> None:
    answer = _create(running, origin="https://egov.example")
    assert answer.status == 403
    assert answer.json()["error"] == "origin_mismatch"
    assert running.signer.requests == {}


def test_another_host_name_is_refused(running) -> None:
    answer = call(
        f"{running.url}/v1/status",
        headers={"Origin": PORTAL, "Host": f"rebound.example:{running.signer.port}"},
    )
    assert answer.status == 421


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"kind": "decrypt"}, "invalid_kind"),
        ({"challenge": "not base64!"}, "invalid_challenge"),
        ({"challenge": base64.b64encode(b"short").decode()}, "invalid_challenge"),
        ({"kind": "sign", "digest": base64.b64encode(b"x" * 31).decode()}, "invalid_digest"),
        ({"description": "x" * 501}, "invalid_description"),
    ],
)
def test_bad_requests_are_refused_with_a_code(running, overrides, code) -> None:
    answer = _create(running, **overrides)
    assert answer.status == 400
    assert answer.json()["error"] == code
    assert running.signer.requests == {}


def test_not_json_is_refused(running) -> None:
    answer = call(
        f"{running.url}/v1/requests", method="POST", headers={"Origin": PORTAL}, body=b"{nope"
    )
    assert answer.status == 400
    assert answer.json()["error"] == "invalid_json"


def test_authenticate_signs_origin_and_challenge_once(running) -> None:
    created = _create(running)
    assert created.status == 201
    request_id = created.json()["id"]
    assert created.json()["consent_url"] == f"{running.url}/consent/{request_id}"
    assert _poll(running, request_id).json() == {"status": "pending"}

    page = call(f"{running.url}/consent/{request_id}?lang=en")
    assert page.status == 200
    assert PORTAL in page.text and "Log in to egov" in page.text
    assert "Алена Каваленка, identification number 4150592M012PB5" in page.text
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]

    done = _consent(running, request_id, secret=PASSWORD)
    assert done.status == 200
    assert "You are logged in with your e-ID" in done.text

    answer = _poll(running, request_id)
    body = answer.json()
    assert body["status"] == "done"
    certificate = x509.load_pem_x509_certificate(body["certificate"].encode())
    public_key = certificate.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(
        base64.b64decode(body["signature"]),
        authentication_payload(PORTAL, b"c" * 32),
        ec.ECDSA(hashes.SHA256()),
    )
    assert "BEGIN CERTIFICATE" in body["chain"]
    # Handed out once, answered once.
    assert _poll(running, request_id).status == 410
    again = call(
        f"{running.url}/consent/{request_id}?lang=en",
        method="POST",
        headers={"Origin": running.url},
        form={"token": "x", "secret": PASSWORD, "action": "allow"},
    )
    assert "You are logged in with your e-ID" in again.text
    assert running.signer.requests[request_id].result is None


def test_the_result_goes_only_to_the_origin_that_asked(running) -> None:
    signer = running.signer
    signer.allowed_origins.add("http://127.0.0.1:9000")
    request_id = _create(running).json()["id"]
    _consent(running, request_id, secret=PASSWORD)
    other = call(
        f"{running.url}/v1/requests/{request_id}", headers={"Origin": "http://127.0.0.1:9000"}
    )
    assert other.status == 404
    assert _poll(running, request_id).json()["status"] == "done"


def test_sign_gives_a_detached_cms_over_the_digest(running, eid_path) -> None:
    digest = hashlib.sha256(b"application").digest()
    created = _create(
        running,
        kind="sign",
        digest=base64.b64encode(digest).decode(),
        description="Company registration",
    )
    request_id = created.json()["id"]
    page = call(f"{running.url}/consent/{request_id}?lang=en")
    assert " ".join(digest.hex().upper()[i : i + 4] for i in range(0, 64, 4)) in page.text
    assert "Signed with your e-ID" in _consent(running, request_id, secret=PASSWORD).text
    body = _poll(running, request_id).json()
    signed = cms.ContentInfo.load(base64.b64decode(body["cms"]))
    assert signed["content_type"].native == "signed_data"
    data = signed["content"]
    assert data["encap_content_info"]["content"].native is None  # detached
    signer_info = data["signer_infos"][0]
    attributes = {a["type"].native: a["values"][0] for a in signer_info["signed_attrs"]}
    assert attributes["message_digest"].native == digest
    assert "signing_time" in attributes
    assert "signing_certificate_v2" in attributes
    signing = eid_pkcs12_open(eid_path.read_bytes(), PASSWORD).certificates["signing"]
    certificate = x509.load_pem_x509_certificate(body["certificate"].encode())
    assert certificate == signing
    public_key = certificate.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(
        signer_info["signature"].native,
        signer_info["signed_attrs"].untag().dump(),
        ec.ECDSA(hashes.SHA256()),
    )


def test_a_wrong_password_signs_nothing_and_is_limited(running) -> None:
    request_id = _create(running).json()["id"]
    for attempt in range(1, MAX_ATTEMPTS):
        answer = _consent(running, request_id, secret="wrong")
        assert answer.status == 400
        assert f"Attempts left: {MAX_ATTEMPTS - attempt}." in answer.text
        assert _poll(running, request_id).json() == {"status": "pending"}
    last = _consent(running, request_id, secret="wrong")
    assert "Too many wrong passwords or PINs" in last.text
    assert _poll(running, request_id).json() == {"status": "refused"}


def test_the_wrong_password_message_is_translated(running) -> None:
    request_id = _create(running, language="ru").json()["id"]
    page = call(f"{running.url}/consent/{request_id}")
    assert '<html lang="ru">' in page.text
    by_header = call(
        f"{running.url}/consent/{_create(running).json()['id']}",
        headers={"Accept-Language": "be-BY,be;q=0.9"},
    )
    assert '<html lang="be">' in by_header.text


def test_refusing_signs_nothing(running) -> None:
    request_id = _create(running).json()["id"]
    answer = _consent(running, request_id, secret="", action="refuse")
    assert "You refused: nothing was signed." in answer.text
    assert _poll(running, request_id).json() == {"status": "refused"}


def test_requests_expire_after_two_minutes(running, clock) -> None:
    request_id = _create(running).json()["id"]
    page = call(f"{running.url}/consent/{request_id}?lang=en")
    clock.now += REQUEST_SECONDS + 1
    assert _poll(running, request_id).json() == {"status": "expired"}
    late = call(
        f"{running.url}/consent/{request_id}?lang=en",
        method="POST",
        headers={"Origin": running.url},
        form={
            "token": form_token(page.text),
            "eid": eid_value(page.text),
            "secret": PASSWORD,
            "action": "allow",
        },
    )
    assert "This request has expired" in late.text
    assert running.signer.requests[request_id].result is None


def test_another_page_cannot_post_the_consent(running) -> None:
    request_id = _create(running).json()["id"]
    page = call(f"{running.url}/consent/{request_id}?lang=en")
    answer = call(
        f"{running.url}/consent/{request_id}?lang=en",
        method="POST",
        headers={"Origin": PORTAL},
        form={
            "token": form_token(page.text),
            "eid": eid_value(page.text),
            "secret": PASSWORD,
            "action": "allow",
        },
    )
    assert answer.status == 403
    assert _poll(running, request_id).json() == {"status": "pending"}


def test_a_stale_form_token_is_refused(running) -> None:
    request_id = _create(running).json()["id"]
    page = call(f"{running.url}/consent/{request_id}?lang=en")
    answer = call(
        f"{running.url}/consent/{request_id}?lang=en",
        method="POST",
        headers={"Origin": running.url},
        form={
            "token": "forged",
            "eid": eid_value(page.text),
            "secret": PASSWORD,
            "action": "allow",
        },
    )
    assert answer.status == 400
    assert _poll(running, request_id).json() == {"status": "pending"}


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.org"])  # noqa: S104
def test_the_signer_listens_on_loopback_only(host: str) -> None:
    with pytest.raises(SignerStartError):
        host_check(host)


def test_start_refuses_other_interfaces() -> None:
    import asyncio

    signer = Signer(eids=[], allowed_origins=[PORTAL])

    async def start() -> None:
        await signer_start(signer, host="0.0.0.0", port=0)  # noqa: S104

    # Its own thread: the browser tests keep an event loop running in the main thread.
    import threading

    raised: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(start())
        except BaseException as error:  # handed to the test's thread
            raised.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    assert len(raised) == 1 and isinstance(raised[0], SignerStartError), raised


def test_an_e_id_file_is_readable_by_openssl(eid_path) -> None:
    import subprocess

    result = subprocess.run(
        [
            "openssl",
            "pkcs12",
            "-in",
            str(eid_path),
            "-passin",
            f"pass:{PASSWORD}",
            "-nodes",
            "-info",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "LC_ALL": "C"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("BEGIN PRIVATE KEY") == 2
    assert "friendlyName: authentication" in result.stdout
    assert "friendlyName: signing" in result.stdout
