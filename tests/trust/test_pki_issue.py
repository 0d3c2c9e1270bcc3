"""certificate_issue as the profiles and ADR 0010 say: persons' and officials' subjects, AIA
and CRL distribution points, a given public key, a key returned and written as PKCS#12."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

from egov.trust.pki import (
    PkiError,
    certificate_current,
    certificate_issue,
    certificates_list,
    load_certificate,
    pkcs12_write,
)
from egov.trust.validation import validate_certificate
from tests.trust.pki_fixtures import BASE_URL

pytestmark = pytest.mark.django_db


def _attribute(certificate: x509.Certificate, oid: x509.ObjectIdentifier) -> str:
    return str(certificate.subject.get_attributes_for_oid(oid)[0].value)


def test_a_persons_certificate_names_them_and_their_number(pki):
    issued = certificate_issue(
        directory=pki,
        profile="citizen-signing",
        name="eid-test-sign",
        common_name="IVANOV IVAN",
        given_name="Ivan",
        surname="Ivanov",
        personal_number="3010190A001PB1",
        country="xx",
    )
    certificate = load_certificate(issued.certificate_path)
    assert _attribute(certificate, NameOID.SERIAL_NUMBER) == "PNOXX-3010190A001PB1"
    assert _attribute(certificate, NameOID.GIVEN_NAME) == "Ivan"
    assert _attribute(certificate, NameOID.SURNAME) == "Ivanov"
    assert _attribute(certificate, NameOID.COUNTRY_NAME) == "XX"
    assert _attribute(certificate, NameOID.COMMON_NAME) == "IVANOV IVAN"
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert (usage.content_commitment, usage.digital_signature) == (True, False)


def test_an_officials_certificate_carries_their_title(pki):
    issued = certificate_issue(
        directory=pki,
        profile="official-signing",
        name="official-test",
        common_name="Anna Petrova",
        organization="Ministry",
        title="Decision maker",
    )
    certificate = load_certificate(issued.certificate_path)
    assert _attribute(certificate, NameOID.TITLE) == "Decision maker"
    assert _attribute(certificate, NameOID.ORGANIZATION_NAME) == "Ministry"


def test_aia_and_crl_distribution_point_come_from_the_base_url(pki):
    issued = certificate_issue(
        directory=pki,
        profile="document-signing",
        name="agency-aia-documents",
        common_name="Agency",
        base_url="https://egov.example/",
    )
    certificate = load_certificate(issued.certificate_path)
    access = certificate.extensions.get_extension_for_class(x509.AuthorityInformationAccess)
    assert [(d.access_method, d.access_location.value) for d in access.value] == [
        (AuthorityInformationAccessOID.OCSP, "https://egov.example/trust/ocsp"),
        (AuthorityInformationAccessOID.CA_ISSUERS, "https://egov.example/trust/ca/issuing.pem"),
    ]
    points = certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert [name.value for name in points[0].full_name] == [
        "https://egov.example/trust/crl/issuing.crl"
    ]
    plain = certificate_issue(directory=pki, profile="gateway-tls", name="no-aia", common_name="GW")
    with pytest.raises(x509.ExtensionNotFound):
        load_certificate(plain.certificate_path).extensions.get_extension_for_class(
            x509.AuthorityInformationAccess
        )


def test_issue_for_a_given_public_key_keeps_no_key(pki):
    key = ec.generate_private_key(ec.SECP256R1())
    issued = certificate_issue(
        directory=pki,
        profile="citizen-authentication",
        name="token-key",
        common_name="Token holder",
        public_key=key.public_key(),
        base_url=BASE_URL,
    )
    certificate = load_certificate(issued.certificate_path)
    assert certificate.public_key() == key.public_key()
    assert not issued.key_path.exists()
    assert issued.key_storage == "external"
    assert certificate_current(directory=pki, name="token-key").serial == issued.serial
    with pytest.raises(PkiError, match="in use"):
        certificate_issue(
            directory=pki,
            profile="citizen-authentication",
            name="token-key",
            common_name="Again",
            public_key=key.public_key(),
        )


def test_a_returned_key_is_not_kept_and_goes_into_a_pkcs12_file(pki, tmp_path):
    files_before = sorted(p.name for p in (pki / "issued").iterdir())
    issued = certificate_issue(
        directory=pki,
        profile="citizen-authentication",
        name="eid-returned",
        common_name="Person",
        keep_key=False,
        base_url=BASE_URL,
    )
    assert sorted(p.name for p in (pki / "issued").iterdir()) == files_before
    assert issued.private_key is not None and issued.certificate is not None
    assert issued.certificate.public_key() == issued.private_key.public_key()
    entry = next(e for e in certificates_list(directory=pki) if e["serial"] == issued.serial)
    assert entry["key"] == "returned"
    assert certificate_current(directory=pki, name="eid-returned") is None
    chain = [load_certificate(pki / "issuing.cert.pem"), load_certificate(pki / "root.cert.pem")]
    path = tmp_path / "person.p12"
    pkcs12_write(path, issued.private_key, issued.certificate, chain, "pass word")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key, certificate, cas = pkcs12.load_key_and_certificates(path.read_bytes(), b"pass word")
    assert certificate == issued.certificate and cas == chain
    assert key is not None and key.public_key() == issued.private_key.public_key()
    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates(path.read_bytes(), b"wrong")
    assert validate_certificate(certificate, cas, purpose="authentication").valid
    with pytest.raises(PkiError):
        pkcs12_write(tmp_path / "x.p12", issued.private_key, issued.certificate, chain, "")


@pytest.mark.parametrize(
    "arguments",
    [
        {"personal_number": "1", "country": ""},
        {"personal_number": "1", "country": "BYN"},
        {"public_key": "not a key"},
        {"common_name": ""},
        {"ip_addresses": ["300.1.1.1"]},
    ],
)
def test_bad_arguments_are_refused_and_change_nothing(pki, arguments):
    before = certificates_list(directory=pki)
    values = {"common_name": "X", **arguments}
    with pytest.raises(PkiError):
        certificate_issue(directory=pki, profile="citizen-signing", name="bad", **values)
    assert certificates_list(directory=pki) == before


def test_the_ocsp_responder_needs_no_status_of_its_own(pki: Path):
    responder = load_certificate(pki / "issued" / "ocsp.cert.pem")
    assert responder.extensions.get_extension_for_class(x509.OCSPNoCheck)
