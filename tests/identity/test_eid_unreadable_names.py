"""An e-ID answer whose certificates parse but a name in them does not (an invalid
UTF8String): the login and the step-up refuse it as unreadable, never with an error page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from egov.identity.models import EidChallenge, LevelOfAssurance, User
from egov.identity.selectors import SESSION_LOA
from tests.factories import UserFactory
from tests.identity.test_eid import LOGIN, ORIGIN, STEP_UP, _answer, _challenge, _refused
from tests.trust import pki_fixtures

pytestmark = pytest.mark.django_db

module_pki = pki_fixtures.module_pki
pki = pki_fixtures.pki

PLACEHOLDER = b"@@@@"
INVALID_UTF8 = b"\xff\xfe\xff\xfe"


@pytest.fixture(autouse=True)
def _portal(settings, pki):  # type: ignore[no-untyped-def]
    settings.PORTAL_BASE_URL = ORIGIN
    settings.PKI_COUNTRY = "BY"


@pytest.fixture
def person() -> User:
    return UserFactory(first_name="Алена", last_name="Каваленка")


def _certificate(
    issuer_key: ec.EllipticCurvePrivateKey,
    key: ec.EllipticCurvePrivateKey,
    *,
    subject: x509.Name,
    issuer: x509.Name,
) -> x509.Certificate:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(issuer_key, hashes.SHA256())
    )


def _unreadable(certificate: x509.Certificate) -> x509.Certificate:
    """``certificate`` with its placeholder's UTF8String bytes replaced by invalid UTF-8 of
    the same length: it still loads, but reading the name that held the placeholder raises
    ValueError (its signature no longer verifies, which does not matter: the names are read
    first)."""
    der = certificate.public_bytes(serialization.Encoding.DER)
    utf8_string = b"\x0c" + bytes([len(PLACEHOLDER)]) + PLACEHOLDER
    assert der.count(utf8_string) == 1
    return x509.load_der_x509_certificate(der.replace(utf8_string, utf8_string[:2] + INVALID_UTF8))


def _person_name(person: User, common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.SERIAL_NUMBER, f"PNOBY-{person.personal_number}"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _placeholder_name() -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, PLACEHOLDER.decode())])


class Crafted:
    """What egov signer would send: the authentication key, its certificate, the chain."""

    def __init__(
        self,
        key: ec.EllipticCurvePrivateKey,
        certificate: x509.Certificate,
        chain: list[x509.Certificate],
    ) -> None:
        self.keys = {"authentication": key}
        self.certificates = {"authentication": certificate}
        self.chain = chain


@pytest.fixture(params=["subject", "issuer", "chain"])
def eid(request, pki, person) -> Crafted:  # type: ignore[no-untyped-def]
    """An answer, signed with the certificate's own key, in which one name cannot be read:
    the leaf's subject (the personal number is read from it), the leaf's issuer, or the
    subject of a chain certificate (looked at when the leaf's issuer is not the platform's
    issuing CA)."""
    from egov.trust.pki import ca_certificates
    from egov.trust.pki.ca import _issuing

    issuing, issuing_key = _issuing(pki)
    key = ec.generate_private_key(ec.SECP256R1())
    chain = [ca_certificates(directory=pki)[1]]
    if request.param == "subject":
        leaf = _certificate(
            issuing_key,
            key,
            subject=_person_name(person, PLACEHOLDER.decode()),
            issuer=issuing.subject,
        )
        certificate = _unreadable(leaf)
        with pytest.raises(ValueError):
            certificate.subject  # noqa: B018 - the property is what fails
    elif request.param == "issuer":
        leaf = _certificate(
            issuing_key, key, subject=_person_name(person, "Алена"), issuer=_placeholder_name()
        )
        certificate = _unreadable(leaf)
        with pytest.raises(ValueError):
            certificate.issuer  # noqa: B018 - the property is what fails
    else:
        foreign = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Foreign CA")])
        certificate = _certificate(
            issuing_key, key, subject=_person_name(person, "Алена"), issuer=foreign
        )
        ca_key = ec.generate_private_key(ec.SECP256R1())
        intermediate = _unreadable(
            _certificate(ca_key, ca_key, subject=_placeholder_name(), issuer=foreign)
        )
        with pytest.raises(ValueError):
            intermediate.subject  # noqa: B018 - the property is what fails
        chain = [intermediate]
    return Crafted(key, certificate, chain)


def test_login_with_an_unreadable_name_is_refused(client, eid) -> None:  # type: ignore[no-untyped-def]
    _refused(client, _answer(eid, _challenge(client)), "malformed", "certificate cannot be read")
    assert "_auth_user_id" not in client.session
    assert EidChallenge.objects.get().used_at is not None


def test_login_refusal_of_an_unreadable_name_is_translated(client, eid) -> None:  # type: ignore[no-untyped-def]
    response = client.post(LOGIN.replace("/en/", "/ru/"), _answer(eid, _challenge(client)))
    assert response.status_code == 400
    assert "Сертификат e-ID невозможно прочитать." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_step_up_with_an_unreadable_name_is_refused(client, person, eid) -> None:  # type: ignore[no-untyped-def]
    client.force_login(person)
    session = client.session
    session[SESSION_LOA] = LevelOfAssurance.LOW
    session.save()
    _refused(
        client,
        _answer(eid, _challenge(client)),
        "malformed",
        "certificate cannot be read",
        url=STEP_UP,
    )
    assert client.session[SESSION_LOA] == LevelOfAssurance.LOW
    assert int(client.session["_auth_user_id"]) == person.pk
