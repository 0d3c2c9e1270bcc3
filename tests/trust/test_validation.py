"""validate_certificate: chain to the platform root, validity at a time, key usage for the
purpose, and the revocation status from the platform's OCSP responder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from egov.trust.pki import (
    certificate_issue,
    certificate_revoke,
    load_certificate,
    load_private_key,
    pki_init,
)
from egov.trust.validation import PURPOSES, validate_certificate
from tests.trust.pki_fixtures import BASE_URL

pytestmark = pytest.mark.django_db


def _issue(pki: Path, name: str, profile: str = "citizen-authentication") -> x509.Certificate:
    issued = certificate_issue(
        directory=pki,
        profile=profile,
        common_name="Ivan Ivanov",
        name=name,
        base_url=BASE_URL,
        given_name="Ivan",
        surname="Ivanov",
        personal_number="3010190A001PB1",
        country="XX",
    )
    return load_certificate(issued.certificate_path)


def _chain(pki: Path) -> list[x509.Certificate]:
    return [load_certificate(pki / "issuing.cert.pem")]


@pytest.mark.parametrize(
    "profile,purpose",
    [
        ("citizen-authentication", "authentication"),
        ("citizen-signing", "signing"),
        ("document-signing", "document"),
        ("official-signing", "document"),
        ("tsa", "timestamp"),
        ("ocsp-responder", "ocsp"),
        ("ledger-signing", "ledger"),
    ],
)
def test_each_profile_is_valid_for_its_purpose(pki, profile, purpose):
    certificate = _issue(pki, f"v-{profile}", profile)
    result = validate_certificate(certificate, _chain(pki), purpose=purpose)
    assert (result.valid, result.reason, result.status) == (True, "valid", "good")
    assert result.revoked_at is None
    assert result.message == "The certificate is valid."


@pytest.mark.parametrize(
    "profile,purpose",
    [
        ("citizen-signing", "authentication"),
        ("citizen-authentication", "signing"),
        ("citizen-authentication", "document"),
        # Only a document-signing certificate (RFC 9336) makes a valid document: not a
        # gateway's, the central registry's, the timestamp authority's or the ledger's.
        ("gateway-signing", "document"),
        ("central-signing", "document"),
        ("tsa", "document"),
        ("ledger-signing", "document"),
        ("citizen-signing", "document"),
        ("document-signing", "ledger"),
        ("gateway-signing", "ledger"),
        ("document-signing", "timestamp"),
        ("tsa", "ocsp"),
    ],
)
def test_a_certificate_for_another_purpose_is_refused(pki, profile, purpose):
    certificate = _issue(pki, f"w-{profile}-{purpose}", profile)
    result = validate_certificate(certificate, _chain(pki), purpose=purpose)
    assert (result.valid, result.reason) == (False, "wrong_usage")


def test_revoked_is_refused_at_once_but_valid_before_its_revocation(pki):
    certificate = _issue(pki, "v-revoked")
    assert validate_certificate(certificate, _chain(pki), purpose="authentication").valid
    before = datetime.now(UTC) - timedelta(minutes=1)
    certificate_revoke(directory=pki, serial=certificate.serial_number, reason="key_compromise")
    result = validate_certificate(certificate, _chain(pki), purpose="authentication")
    assert (result.valid, result.reason, result.status) == (False, "revoked", "revoked")
    assert result.revoked_at is not None
    assert result.message == "The certificate has been revoked."
    earlier = validate_certificate(certificate, _chain(pki), purpose="authentication", at=before)
    assert (earlier.valid, earlier.status, earlier.revoked_at) == (
        True,
        "revoked",
        result.revoked_at,
    )


def test_expired_and_not_yet_valid(pki):
    certificate = _issue(pki, "v-time")
    later = certificate.not_valid_after_utc + timedelta(days=1)
    result = validate_certificate(certificate, _chain(pki), purpose="authentication", at=later)
    assert (result.valid, result.reason) == (False, "expired")
    earlier = certificate.not_valid_before_utc - timedelta(days=1)
    result = validate_certificate(certificate, _chain(pki), purpose="authentication", at=earlier)
    assert (result.valid, result.reason) == (False, "not_yet_valid")


def test_an_expired_certificate_signed_by_the_platform_is_refused(pki):
    """A certificate whose validity ended (made by the issuing CA's key, as an old one)."""
    issuing = load_certificate(pki / "issuing.cert.pem")
    issuing_key = load_private_key(pki / "issuing.key.pem")
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    old = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Old")]))
        .issuer_name(issuing.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=400))
        .not_valid_after(now - timedelta(days=35))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(issuing_key, hashes.SHA256())
    )
    result = validate_certificate(old, _chain(pki), purpose="authentication")
    assert (result.valid, result.reason) == (False, "expired")


def test_a_serial_the_ca_never_issued_is_unknown(pki):
    """Signed with the issuing CA's key but not in the index (a forged issuance)."""
    issuing = load_certificate(pki / "issuing.cert.pem")
    issuing_key = load_private_key(pki / "issuing.key.pem")
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    forged = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Nobody")]))
        .issuer_name(issuing.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(issuing_key, hashes.SHA256())
    )
    result = validate_certificate(forged, _chain(pki), purpose="authentication")
    assert (result.valid, result.reason, result.status) == (False, "unknown", "unknown")


def test_another_pki_and_garbage_are_refused(pki, tmp_path):
    other = tmp_path / "other"
    pki_init(directory=other)
    stranger = load_certificate(
        certificate_issue(
            directory=other, profile="citizen-authentication", common_name="X", name="x"
        ).certificate_path
    )
    result = validate_certificate(
        stranger, [load_certificate(other / "issuing.cert.pem")], purpose="authentication"
    )
    assert (result.valid, result.reason) == (False, "untrusted")
    assert validate_certificate(b"garbage", None, purpose="authentication").reason == "malformed"
    assert validate_certificate(
        "-----BEGIN CERTIFICATE-----\nxx", [], purpose="signing"
    ).reason == ("malformed")


def test_pem_input_and_unknown_purpose(pki):
    certificate = _issue(pki, "v-pem")
    pem = certificate.public_bytes(
        __import__("cryptography").hazmat.primitives.serialization.Encoding.PEM
    )
    chain_pem = (pki / "issuing.cert.pem").read_bytes()
    assert validate_certificate(pem, chain_pem, purpose="authentication").valid
    with pytest.raises(ValueError):
        validate_certificate(pem, chain_pem, purpose="anything")
    assert set(PURPOSES) == {"authentication", "signing", "document", "timestamp", "ocsp", "ledger"}


@pytest.mark.parametrize("part", ["issuer", "subject of the chain"])
def test_a_name_that_cannot_be_read_is_malformed_not_an_error(pki, part):
    """A certificate loads, but one of its names holds an invalid UTF8String: reading it
    raises in `cryptography`; validation says "malformed" for any caller."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    placeholder = b"@@@@"

    def unreadable(certificate: x509.Certificate) -> x509.Certificate:
        der = certificate.public_bytes(serialization.Encoding.DER)
        field = b"\x0c" + bytes([len(placeholder)]) + placeholder
        return x509.load_der_x509_certificate(der.replace(field, field[:2] + b"\xff\xfe\xff\xfe"))

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, placeholder.decode())])
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    made = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    if part == "issuer":
        result = validate_certificate(unreadable(made), _chain(pki), purpose="authentication")
    else:
        # A leaf of another issuer: the chain's certificates are looked through for it.
        result = validate_certificate(made, [unreadable(made)], purpose="authentication")
    assert (result.valid, result.reason) == (False, "malformed")
