"""Login and step-up with the e-ID at the high level: one-time challenges bound to the
session and the portal's origin, the signature and the certificate checked every time, and
each refusal translated and recorded in the audit ledger."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.utils import timezone

from egov.audit.models import Entry
from egov.identity.eid import eid_issue, personal_number_of
from egov.identity.models import EidChallenge, LevelOfAssurance, User
from egov.identity.selectors import SESSION_LOA
from egov.trust.pki import certificate_pem, certificate_revoke
from egov.trust.signer import authentication_payload, eid_pkcs12_open
from tests.factories import UserFactory
from tests.trust import pki_fixtures
from tests.trust.signer_support import ca_make, eid_file

pytestmark = pytest.mark.django_db

module_pki = pki_fixtures.module_pki
pki = pki_fixtures.pki

ORIGIN = "http://127.0.0.1:8000"
CHALLENGE = "/en/account/login/e-id/challenge/"
LOGIN = "/en/account/login/e-id/"
STEP_UP = "/en/account/verify/e-id/"
PASSWORD = "eid-password"


@pytest.fixture(autouse=True)
def _portal(settings, pki):  # type: ignore[no-untyped-def]
    settings.PORTAL_BASE_URL = ORIGIN
    settings.PKI_COUNTRY = "BY"


@pytest.fixture
def person() -> User:
    return UserFactory(first_name="Алена", last_name="Каваленка")


@pytest.fixture
def eid(person):  # type: ignore[no-untyped-def]
    return eid_pkcs12_open(eid_issue(user=person, password=PASSWORD), PASSWORD)


def _challenge(client) -> str:  # type: ignore[no-untyped-def]
    answer = client.post(CHALLENGE)
    assert answer.status_code == 200
    return str(answer.json()["challenge"])


def _answer(
    eid,  # type: ignore[no-untyped-def]
    challenge: str,
    *,
    origin: str = ORIGIN,
    key: ec.EllipticCurvePrivateKey | None = None,
    certificate: x509.Certificate | None = None,
) -> dict[str, str]:
    key = key or eid.keys["authentication"]
    certificate = certificate or eid.certificates["authentication"]
    signature = key.sign(
        authentication_payload(origin, base64.b64decode(challenge)), ec.ECDSA(hashes.SHA256())
    )
    return {
        "challenge": challenge,
        "certificate": certificate_pem(certificate),
        "chain": "".join(certificate_pem(ca) for ca in eid.chain),
        "signature": base64.b64encode(signature).decode(),
    }


def _refused(client, fields, reason: str, text: str, url: str = LOGIN) -> None:  # type: ignore[no-untyped-def]
    before = Entry.objects.filter(kind="login.failed").count()
    response = client.post(url, fields)
    assert response.status_code == 400
    assert text in response.content.decode()
    assert SESSION_LOA not in client.session or client.session[SESSION_LOA] != "high"
    failed = Entry.objects.filter(kind="login.failed").order_by("-id")
    assert failed.count() == before + 1
    assert failed[0].data["reason"] == reason
    assert failed[0].data["method"] == "eid"


def test_the_e_id_has_both_certificates_with_the_personal_number(person, eid) -> None:  # type: ignore[no-untyped-def]
    authentication = eid.certificates["authentication"]
    signing = eid.certificates["signing"]
    assert personal_number_of(authentication) == person.personal_number
    serial = authentication.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value
    assert serial == f"PNOBY-{person.personal_number}"
    assert authentication.subject.get_attributes_for_oid(NameOID.GIVEN_NAME)[0].value == "Алена"
    assert authentication.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    assert signing.extensions.get_extension_for_class(x509.KeyUsage).value.content_commitment
    assert not signing.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    assert set(eid.keys) == {"authentication", "signing"}


def test_person_logs_in_at_the_high_level(client, person, eid) -> None:  # type: ignore[no-untyped-def]
    response = client.post(LOGIN, {**_answer(eid, _challenge(client)), "next": "/en/account/"})
    assert response.status_code == 302
    assert response["Location"] == "/en/account/"
    assert client.session[SESSION_LOA] == LevelOfAssurance.HIGH
    assert int(client.session["_auth_user_id"]) == person.pk
    assert EidChallenge.objects.get().used_at is not None
    assert Entry.objects.filter(kind="login.succeeded", actor_user_id=person.pk).exists()


def test_the_login_page_offers_the_e_id(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/en/account/login/").content.decode()
    assert "Log in with e-ID" in page
    assert 'id="egov-signer-config"' in page
    assert "egov/signer.js" in page and "egov/eid-login.js" in page
    policy = client.get("/en/account/login/")["Content-Security-Policy"]
    assert "connect-src 'self' http://127.0.0.1:8300" in policy


def test_a_challenge_is_used_once(client, eid) -> None:  # type: ignore[no-untyped-def]
    fields = _answer(eid, _challenge(client))
    assert client.post(LOGIN, fields).status_code == 302
    client.logout()
    # The binding went with the login; the same answer again, in the same browser.
    session = client.session
    session["egov_eid_binding"] = "x"
    session.save()
    _refused(client, fields, "unknown_challenge", "This e-ID login was not started on this page")


def test_a_replayed_answer_is_refused_in_the_same_session(client, eid) -> None:  # type: ignore[no-untyped-def]
    challenge = _challenge(client)
    fields = _answer(eid, challenge)
    EidChallenge.objects.update(used_at=timezone.now())
    _refused(client, fields, "replayed", "This e-ID login was already used.")


def test_a_challenge_of_another_session_is_refused(client, eid, django_user_model) -> None:  # type: ignore[no-untyped-def]
    from django.test import Client

    other = Client()
    fields = _answer(eid, _challenge(other))
    _refused(client, fields, "unknown_challenge", "This e-ID login was not started on this page")


def test_an_expired_challenge_is_refused(client, eid) -> None:  # type: ignore[no-untyped-def]
    fields = _answer(eid, _challenge(client))
    EidChallenge.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    _refused(client, fields, "challenge_expired", "The e-ID login took too long.")


def test_a_signature_for_another_origin_is_refused(client, eid) -> None:  # type: ignore[no-untyped-def]
    fields = _answer(eid, _challenge(client), origin="https://evil.example")
    _refused(client, fields, "bad_signature", "The e-ID&#x27;s signature does not match.")


def test_a_challenge_issued_for_another_origin_is_refused(client, eid, settings) -> None:  # type: ignore[no-untyped-def]
    fields = _answer(eid, _challenge(client))
    settings.PORTAL_BASE_URL = "https://egov.example"
    _refused(client, fields, "other_origin", "This e-ID login was made for another site.")


def test_a_signature_by_another_key_is_refused(client, eid) -> None:  # type: ignore[no-untyped-def]
    fields = _answer(eid, _challenge(client), key=eid.keys["signing"])
    _refused(client, fields, "bad_signature", "The e-ID&#x27;s signature does not match.")


def test_the_signing_certificate_cannot_log_in(client, eid) -> None:  # type: ignore[no-untyped-def]
    fields = _answer(
        eid,
        _challenge(client),
        key=eid.keys["signing"],
        certificate=eid.certificates["signing"],
    )
    _refused(client, fields, "wrong_usage", "may not be used for this purpose")


def test_a_revoked_e_id_is_refused(client, eid, pki) -> None:  # type: ignore[no-untyped-def]
    serial = eid.certificates["authentication"].serial_number
    certificate_revoke(directory=pki, serial=serial, reason="key_compromise")
    _refused(
        client, _answer(eid, _challenge(client)), "revoked", "The certificate has been revoked."
    )


def test_a_foreign_ca_is_refused(client, person) -> None:  # type: ignore[no-untyped-def]
    foreign = eid_pkcs12_open(
        eid_file(
            ca_make(),
            password=PASSWORD,
            given_name="Алена",
            surname="Каваленка",
            personal_number=person.personal_number,
        ),
        PASSWORD,
    )
    _refused(
        client,
        _answer(foreign, _challenge(client)),
        "untrusted",
        "was not issued by the platform&#x27;s certification authority",
    )


def test_an_expired_certificate_is_refused(client, eid, pki, person) -> None:  # type: ignore[no-untyped-def]
    from egov.trust.pki.ca import _issuing

    issuing, issuing_key = _issuing(pki)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.SERIAL_NUMBER, f"PNOBY-{person.personal_number}"),
                    x509.NameAttribute(NameOID.COMMON_NAME, "Алена Каваленка"),
                ]
            )
        )
        .issuer_name(issuing.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=30))
        .not_valid_after(now - timedelta(days=1))
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(issuing_key, hashes.SHA256())
    )
    fields = _answer(eid, _challenge(client), key=key, certificate=certificate)
    _refused(client, fields, "expired", "The certificate has expired.")


def test_an_unknown_person_is_told_to_register(client, eid, person) -> None:  # type: ignore[no-untyped-def]
    User.objects.filter(pk=person.pk).update(personal_number="3010180A999PB1")
    _refused(
        client,
        _answer(eid, _challenge(client)),
        "unknown_person",
        "No account has the identification number of this e-ID.",
    )


def test_a_broken_answer_is_refused_without_an_error_page(client) -> None:  # type: ignore[no-untyped-def]
    _refused(
        client,
        {"challenge": "", "certificate": "", "signature": ""},
        "malformed",
        "The e-ID login did not arrive whole.",
    )
    fields = {"challenge": _challenge(client), "certificate": "/etc/passwd", "signature": "AAAA"}
    _refused(client, fields, "malformed", "cannot be read")


def test_refusals_are_translated(client, eid) -> None:  # type: ignore[no-untyped-def]
    fields = _answer(eid, _challenge(client), origin="https://evil.example")
    response = client.post(LOGIN.replace("/en/", "/ru/"), fields)
    assert response.status_code == 400
    assert "Подпись e-ID не совпадает. Начните заново." in response.content.decode()


def test_step_up_raises_the_session_to_high(client, person, eid) -> None:  # type: ignore[no-untyped-def]
    client.force_login(person)
    session = client.session
    session[SESSION_LOA] = LevelOfAssurance.LOW
    session.save()
    page = client.get("/en/account/verify/?level=high&next=/en/account/")
    assert page.status_code == 200
    assert "Confirm with e-ID" in page.content.decode()
    response = client.post(STEP_UP, {**_answer(eid, _challenge(client)), "next": "/en/account/"})
    assert response.status_code == 302
    assert client.session[SESSION_LOA] == LevelOfAssurance.HIGH
    assert Entry.objects.filter(kind="login.assurance_raised", actor_user_id=person.pk).exists()


def test_step_up_with_someone_elses_e_id_is_refused(client, eid) -> None:  # type: ignore[no-untyped-def]
    other = UserFactory()
    client.force_login(other)
    _refused(
        client,
        _answer(eid, _challenge(client)),
        "other_person",
        "This e-ID belongs to someone else",
        url=STEP_UP,
    )
    assert client.session.get(SESSION_LOA, "low") == "low"


def test_step_up_needs_a_login(client, eid) -> None:  # type: ignore[no-untyped-def]
    response = client.post(STEP_UP, _answer(eid, _challenge(client)))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_the_demo_seed_issues_e_id_files_with_the_readme_passwords(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from egov.demo.eid import DEMO_EID_PASSWORDS, demo_eids_issue

    # The demo accounts are in the test database (seeded once for the session).
    assert demo_eids_issue(directory=tmp_path) == len(DEMO_EID_PASSWORDS)
    assert demo_eids_issue(directory=tmp_path) == 0
    for number, password in DEMO_EID_PASSWORDS.items():
        path = tmp_path / f"{number}.p12"
        assert path.stat().st_mode & 0o777 == 0o600
        opened = eid_pkcs12_open(path.read_bytes(), password)
        assert personal_number_of(opened.certificates["authentication"]) == number
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    for password in DEMO_EID_PASSWORDS.values():
        assert f"`{password}`" in readme


def test_a_step_up_from_a_password_login_proves_the_accounts_number(client, person, eid) -> None:  # type: ignore[no-untyped-def]
    """The password and the e-ID carrying the account's number in one session: the same
    person holds both, the number is theirs. An e-ID login alone proves nothing of who set
    the password (someone may have registered with another person's number)."""
    User.objects.filter(pk=person.pk).update(personal_number_proven_at=None)
    assert client.post(LOGIN, _answer(eid, _challenge(client))).status_code == 302
    assert User.objects.get(pk=person.pk).personal_number_proven_at is None
    response = client.post(STEP_UP, {**_answer(eid, _challenge(client)), "next": "/en/account/"})
    assert response.status_code == 302  # a step-up from a session the e-ID opened
    assert User.objects.get(pk=person.pk).personal_number_proven_at is None
    client.logout()

    client.force_login(User.objects.get(pk=person.pk))
    session = client.session
    session[SESSION_LOA] = LevelOfAssurance.SUBSTANTIAL
    session.save()
    response = client.post(STEP_UP, {**_answer(eid, _challenge(client)), "next": "/en/account/"})
    assert response.status_code == 302
    proven = User.objects.get(pk=person.pk).personal_number_proven_at
    assert proven is not None
