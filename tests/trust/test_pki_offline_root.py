"""The root CA kept offline: the issuing CA's request made here, signed on the offline
machine, its answer checked and installed, and certificates issued afterwards."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from cryptography import x509
from django.core.management import call_command
from django.core.management.base import CommandError

from egov.trust.pki import certificate_issue, load_certificate, pki_init, root_init, root_sign
from egov.trust.validation import validate_certificate

pytestmark = pytest.mark.django_db


def test_offline_root_round_trip_then_issue_and_validate(tmp_path: Path, settings):
    online, offline = tmp_path / "online", tmp_path / "offline"
    settings.PKI_DIR = online
    call_command("pki", "init", "--offline-root", stdout=io.StringIO())
    assert not (online / "root.key.pem").exists()
    assert not (online / "issuing.cert.pem").exists()
    request = online / "issuing.csr.pem"
    assert x509.load_pem_x509_csr(request.read_bytes()).is_signature_valid

    # On the offline machine, with nothing but its own folder.
    call_command("pki", "--dir", str(offline), "root", "init", stdout=io.StringIO())
    answer = tmp_path / "issuing.cert.pem"
    call_command(
        "pki",
        "--dir",
        str(offline),
        "root",
        "sign",
        str(request),
        "--out",
        str(answer),
        stdout=io.StringIO(),
    )
    # Back here: a wrong root is refused and changes nothing.
    stranger = tmp_path / "stranger"
    root_init(directory=stranger)
    with pytest.raises(CommandError, match="not signed by the given root"):
        call_command(
            "pki",
            "import-issuing",
            str(answer),
            "--root",
            str(stranger / "root.cert.pem"),
            stdout=io.StringIO(),
        )
    assert not (online / "issuing.cert.pem").exists()
    call_command(
        "pki",
        "import-issuing",
        str(answer),
        "--root",
        str(offline / "root.cert.pem"),
        stdout=io.StringIO(),
    )
    assert not (online / "root.key.pem").exists()
    assert not request.exists()
    issuing = load_certificate(online / "issuing.cert.pem")
    root = load_certificate(online / "root.cert.pem")
    issuing.verify_directly_issued_by(root)
    constraints = issuing.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert (constraints.ca, constraints.path_length) == (True, 0)
    assert "Issuing CA" in issuing.subject.rfc4514_string()

    # Day to day: the PKI issues and everything validates, with no root key here.
    call_command("pki", "init", stdout=io.StringIO())  # idempotent, still offline
    assert not (online / "root.key.pem").exists()
    certificate_issue(directory=online, profile="ocsp-responder", common_name="OCSP", name="ocsp")
    person = load_certificate(
        certificate_issue(
            directory=online, profile="citizen-authentication", common_name="P", name="p"
        ).certificate_path
    )
    assert validate_certificate(person, [issuing], purpose="authentication").valid


def test_an_answer_for_another_key_is_refused(tmp_path: Path):
    online, other = tmp_path / "online", tmp_path / "other"
    pki_init(directory=online, offline_root=True)
    pki_init(directory=other, offline_root=True)
    offline = tmp_path / "offline"
    root_init(directory=offline)
    certificate = root_sign(directory=offline, request_pem=(other / "issuing.csr.pem").read_bytes())
    from cryptography.hazmat.primitives import serialization

    from egov.trust.pki import PkiError, issuing_import

    with pytest.raises(PkiError, match="not for this PKI's issuing key"):
        issuing_import(
            directory=online,
            certificate_pem=certificate.public_bytes(serialization.Encoding.PEM),
            root_pem=(offline / "root.cert.pem").read_bytes(),
        )
    with pytest.raises(PkiError, match="not a PEM certificate request"):
        root_sign(directory=offline, request_pem=b"garbage")
    assert not (online / "issuing.cert.pem").exists()


def test_offline_root_refused_where_a_root_key_is(tmp_path: Path):
    directory = tmp_path / "pki"
    pki_init(directory=directory)
    from egov.trust.pki import PkiError

    with pytest.raises(PkiError, match="root key is here"):
        pki_init(directory=directory, offline_root=True)


def test_ca_names_come_from_configuration(tmp_path: Path, settings):
    settings.PKI_ROOT_NAME = "{instance} National Root"
    settings.PKI_ISSUING_NAME = "Issuing {instance}"
    settings.PKI_INSTANCE = "EE"
    settings.PKI_COUNTRY = "EE"
    settings.PKI_ORGANIZATION = "RIA"
    settings.PKI_DIR = tmp_path / "pki"
    call_command("pki", "init", stdout=io.StringIO())
    root = load_certificate(tmp_path / "pki" / "root.cert.pem")
    issuing = load_certificate(tmp_path / "pki" / "issuing.cert.pem")
    assert root.subject.rfc4514_string() == "CN=EE National Root,O=RIA,C=EE"
    assert issuing.subject.rfc4514_string() == "CN=Issuing EE,O=RIA,C=EE"
