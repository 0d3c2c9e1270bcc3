from __future__ import annotations

import ipaddress
import json
import stat
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import PolicyBuilder, Store
from django.core.management import call_command
from django.core.management.base import CommandError

from egov.trust.pki import (
    PkiError,
    Profile,
    certificate_issue,
    certificate_revoke,
    certificates_list,
    fingerprint_sha256,
    load_certificate,
    load_private_key,
    pki_init,
    profile_register,
    revoked_serials,
    sign,
    verify,
)
from egov.trust.pki.profiles import PROFILES


@pytest.fixture
def pki(tmp_path: Path) -> Path:
    directory = tmp_path / "pki"
    pki_init(directory=directory, instance="BY")
    return directory


def _tls(pki: Path, name: str = "gw-tls"):  # type: ignore[no-untyped-def]
    return certificate_issue(
        directory=pki,
        profile="gateway-tls",
        common_name="GW-TEST",
        organization="NCES",
        ip_addresses=["127.0.0.1"],
        dns_names=["localhost"],
        name=name,
    )


def _files(directory: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def test_init_creates_a_p384_root_over_a_p256_issuing_ca(pki):
    root = load_certificate(pki / "root.cert.pem")
    issuing = load_certificate(pki / "issuing.cert.pem")
    root_key = load_private_key(pki / "root.key.pem")
    issuing_key = load_private_key(pki / "issuing.key.pem")
    assert isinstance(root_key.curve, ec.SECP384R1)
    assert isinstance(issuing_key.curve, ec.SECP256R1)
    assert root.public_key() == root_key.public_key()
    assert issuing.public_key() == issuing_key.public_key()
    assert root.subject.rfc4514_string() == "CN=BY egov Root CA,O=egov,C=BY"
    assert issuing.issuer == root.subject
    root_constraints = root.extensions.get_extension_for_class(x509.BasicConstraints)
    issuing_constraints = issuing.extensions.get_extension_for_class(x509.BasicConstraints)
    assert (root_constraints.critical, root_constraints.value.ca) == (True, True)
    assert root_constraints.value.path_length == 1
    assert (issuing_constraints.value.ca, issuing_constraints.value.path_length) == (True, 0)
    for certificate in (root, issuing):
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
        assert (usage.key_cert_sign, usage.crl_sign, usage.digital_signature) == (
            True,
            True,
            False,
        )
    root.verify_directly_issued_by(root)
    issuing.verify_directly_issued_by(root)
    root_years = (root.not_valid_after_utc - root.not_valid_before_utc).days / 365
    issuing_years = (issuing.not_valid_after_utc - issuing.not_valid_before_utc).days / 365
    assert 20 <= root_years < 20.1
    assert 10 <= issuing_years < 10.1
    index = json.loads((pki / "index.json").read_text())
    assert index["certificates"] == []
    crl = x509.load_pem_x509_crl((pki / "crl.pem").read_bytes())
    assert crl.is_signature_valid(issuing.public_key())
    assert len(crl) == 0


def test_init_again_keeps_every_file(pki):
    _tls(pki)
    before = _files(pki)
    pki_init(directory=pki)
    assert _files(pki) == before


def test_init_refuses_a_root_certificate_without_its_key(pki):
    (pki / "root.key.pem").unlink()
    before = _files(pki)
    with pytest.raises(PkiError):
        pki_init(directory=pki)
    assert _files(pki) == before


def test_gateway_tls_certificate_chains_to_the_root_for_its_ip_and_name(pki):
    issued = _tls(pki)
    root = load_certificate(pki / "root.cert.pem")
    issuing = load_certificate(pki / "issuing.cert.pem")
    leaf = load_certificate(issued.certificate_path)
    builder = PolicyBuilder().store(Store([root])).time(datetime.now(UTC))
    for subject in (x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))):
        chain = builder.build_server_verifier(subject).verify(leaf, [issuing])
        assert chain == [leaf, issuing, root]
    chain = builder.build_client_verifier().verify(leaf, [issuing])
    assert chain.chain == [leaf, issuing, root]
    with pytest.raises(x509.verification.VerificationError):
        builder.build_server_verifier(x509.DNSName("example.org")).verify(leaf, [issuing])
    assert issued.chain_path.read_bytes() == (
        issued.certificate_path.read_bytes() + (pki / "issuing.cert.pem").read_bytes()
    )


def test_a_certificate_of_another_pki_does_not_chain(pki, tmp_path):
    other = tmp_path / "other"
    pki_init(directory=other)
    issued = _tls(other)
    root = load_certificate(pki / "root.cert.pem")
    leaf = load_certificate(issued.certificate_path)
    verifier = PolicyBuilder().store(Store([root])).build_server_verifier(x509.DNSName("localhost"))
    with pytest.raises(x509.verification.VerificationError):
        verifier.verify(leaf, [load_certificate(other / "issuing.cert.pem")])


@pytest.mark.parametrize(
    ("profile", "usages", "extended"),
    [
        (
            "gateway-tls",
            {"digital_signature"},
            [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH],
        ),
        ("gateway-signing", {"digital_signature", "content_commitment"}, None),
        ("central-signing", {"digital_signature", "content_commitment"}, None),
    ],
)
def test_each_profile_carries_its_key_usages(pki, profile, usages, extended):
    issued = certificate_issue(directory=pki, profile=profile, common_name="X", name="x")
    certificate = load_certificate(issued.certificate_path)
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical is True
    names = [
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
    ]
    assert {name for name in names if getattr(usage.value, name)} == usages
    constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert (constraints.critical, constraints.value.ca) == (True, False)
    if extended is None:
        with pytest.raises(x509.ExtensionNotFound):
            certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    else:
        assert (
            list(certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
            == extended
        )
    assert isinstance(load_private_key(issued.key_path).curve, ec.SECP256R1)
    certificate.verify_directly_issued_by(load_certificate(pki / "issuing.cert.pem"))


def test_a_registered_profile_is_issued_without_changing_the_pki(pki):
    profile_register(
        Profile(
            name="test-tsa",
            key_usages=frozenset({"digital_signature"}),
            extended_key_usages=(ExtendedKeyUsageOID.TIME_STAMPING,),
            extended_key_usage_critical=True,
            validity=timedelta(days=30),
        )
    )
    try:
        issued = certificate_issue(directory=pki, profile="test-tsa", common_name="TSA", name="t")
        certificate = load_certificate(issued.certificate_path)
        extension = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
        assert (extension.critical, list(extension.value)) == (
            True,
            [ExtendedKeyUsageOID.TIME_STAMPING],
        )
        lifetime = certificate.not_valid_after_utc - certificate.not_valid_before_utc
        assert lifetime == timedelta(days=30, minutes=5)
    finally:
        del PROFILES["test-tsa"]


def test_issue_writes_the_index_and_private_files(pki):
    issued = _tls(pki)
    certificate = load_certificate(issued.certificate_path)
    assert stat.S_IMODE(issued.key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE((pki / "root.key.pem").stat().st_mode) == 0o600
    assert stat.S_IMODE((pki / "issuing.key.pem").stat().st_mode) == 0o600
    assert stat.S_IMODE(issued.certificate_path.stat().st_mode) == 0o644
    assert certificates_list(directory=pki) == [
        {
            "serial": certificate.serial_number,
            "name": "gw-tls",
            "profile": "gateway-tls",
            "subject": "CN=GW-TEST,O=NCES",
            "not_after": certificate.not_valid_after_utc.isoformat(),
            "fingerprint": fingerprint_sha256(certificate),
            "revoked_at": None,
            "reason": None,
            "key": "file",
        }
    ]
    assert issued.serial == certificate.serial_number
    assert issued.fingerprint == fingerprint_sha256(certificate)
    assert len(issued.fingerprint) == 64


def test_a_name_in_use_is_not_issued_again_until_revoked(pki):
    issued = _tls(pki)
    before = _files(pki)
    with pytest.raises(PkiError, match="in use"):
        _tls(pki)
    assert _files(pki) == before
    certificate_revoke(directory=pki, serial=issued.serial, reason="superseded")
    again = _tls(pki)
    assert again.serial != issued.serial
    assert [entry["serial"] for entry in certificates_list(directory=pki)] == [
        issued.serial,
        again.serial,
    ]


def test_unknown_profile_and_uninitialised_pki_are_refused(pki, tmp_path):
    with pytest.raises(KeyError):
        certificate_issue(directory=pki, profile="nope", common_name="X", name="x")
    with pytest.raises(PkiError, match="not initialised"):
        certificate_issue(
            directory=tmp_path / "empty", profile="gateway-tls", common_name="X", name="x"
        )
    with pytest.raises(PkiError):
        certificate_issue(directory=pki, profile="gateway-tls", common_name="X", name="../x")
    assert certificates_list(directory=pki) == []


def test_revocation_lands_in_the_index_and_the_crl(pki):
    kept = _tls(pki, "kept")
    revoked = _tls(pki, "revoked")
    certificate_revoke(directory=pki, serial=revoked.serial, reason="key_compromise")
    assert revoked_serials(directory=pki) == {revoked.serial}
    entries = {entry["name"]: entry for entry in certificates_list(directory=pki)}
    assert entries["revoked"]["reason"] == "key_compromise"
    revoked_at = datetime.fromisoformat(entries["revoked"]["revoked_at"])
    assert abs(datetime.now(UTC) - revoked_at) < timedelta(seconds=5)
    assert (entries["kept"]["revoked_at"], entries["kept"]["reason"]) == (None, None)
    crl = x509.load_pem_x509_crl((pki / "crl.pem").read_bytes())
    issuing = load_certificate(pki / "issuing.cert.pem")
    assert crl.is_signature_valid(issuing.public_key())
    assert crl.issuer == issuing.subject
    assert [entry.serial_number for entry in crl] == [revoked.serial]
    entry = crl.get_revoked_certificate_by_serial_number(revoked.serial)
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == (
        x509.ReasonFlags.key_compromise
    )
    assert crl.get_revoked_certificate_by_serial_number(kept.serial) is None
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 2


def test_revoking_twice_or_an_unknown_serial_changes_nothing(pki):
    issued = _tls(pki)
    certificate_revoke(directory=pki, serial=issued.serial, reason="superseded")
    before = _files(pki)
    with pytest.raises(PkiError, match="already revoked"):
        certificate_revoke(directory=pki, serial=issued.serial, reason="superseded")
    with pytest.raises(PkiError, match="no certificate"):
        certificate_revoke(directory=pki, serial=12345, reason="superseded")
    with pytest.raises(PkiError, match="unknown revocation reason"):
        certificate_revoke(directory=pki, serial=issued.serial, reason="boredom")
    assert _files(pki) == before


def test_sign_and_verify(pki, tmp_path):
    issued = certificate_issue(
        directory=pki, profile="gateway-signing", common_name="GW", name="signing"
    )
    other = certificate_issue(
        directory=pki, profile="gateway-signing", common_name="GW2", name="other"
    )
    key = load_private_key(issued.key_path)
    certificate = load_certificate(issued.certificate_path)
    data = "Подпіс".encode() + b"\x00payload"
    signature = sign(key, data)
    assert verify(certificate, signature, data) is True
    assert verify(certificate, signature, data + b"!") is False
    assert verify(certificate, signature[:-1] + bytes([signature[-1] ^ 1]), data) is False
    assert verify(load_certificate(other.certificate_path), signature, data) is False
    assert verify(certificate, b"not a signature", data) is False
    assert verify(certificate, b"", data) is False


def test_loaders_accept_pem_bytes_text_and_paths(pki):
    path = pki / "root.cert.pem"
    certificate = load_certificate(path)
    assert load_certificate(str(path)) == certificate
    assert load_certificate(path.read_bytes()) == certificate
    assert load_certificate(path.read_text()) == certificate
    with pytest.raises(ValueError):
        load_certificate(b"-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")


@pytest.mark.django_db
def test_cli_init_issue_list_revoke_crl(tmp_path):
    directory = tmp_path / "cli"
    out = StringIO()
    call_command("pki", "--dir", str(directory), "init", stdout=out)
    call_command("pki", "--dir", str(directory), "init", stdout=out)
    call_command(
        "pki",
        "--dir",
        str(directory),
        "issue",
        "--profile",
        "gateway-tls",
        "--name",
        "gw",
        "--cn",
        "GW",
        "--org",
        "NCES",
        "--ip",
        "127.0.0.1",
        "--dns",
        "localhost",
        stdout=out,
    )
    certificate = load_certificate(directory / "issued" / "gw.cert.pem")
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert certificate.subject.rfc4514_string() == "CN=GW,O=NCES"
    listing = StringIO()
    call_command("pki", "--dir", str(directory), "list", "--json", stdout=listing)
    assert [entry["serial"] for entry in json.loads(listing.getvalue())] == [
        certificate.serial_number
    ]
    call_command(
        "pki",
        "--dir",
        str(directory),
        "revoke",
        "--serial",
        hex(certificate.serial_number),
        "--reason",
        "keyCompromise",
        stdout=out,
    )
    assert revoked_serials(directory=directory) == {certificate.serial_number}
    listing = StringIO()
    call_command("pki", "--dir", str(directory), "list", stdout=listing)
    assert "revoked" in listing.getvalue() and "(key_compromise)" in listing.getvalue()
    crl_out = StringIO()
    call_command("pki", "--dir", str(directory), "crl", stdout=crl_out)
    assert crl_out.getvalue().startswith("CRL re-issued: 1 revoked")
    crl = x509.load_pem_x509_crl((directory / "crl.pem").read_bytes())
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 3
    with pytest.raises(CommandError, match="already revoked"):
        call_command(
            "pki", "--dir", str(directory), "revoke", "--serial", str(certificate.serial_number)
        )


@pytest.mark.django_db
def test_cli_uses_the_pki_dir_setting(tmp_path, settings):
    settings.PKI_DIR = tmp_path / "from-settings"
    call_command("pki", "init", stdout=StringIO())
    assert (tmp_path / "from-settings" / "root.cert.pem").is_file()
