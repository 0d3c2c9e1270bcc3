"""The PKI's public endpoints, the admin's certificate page, `egov trust setup`, and the
audit ledger entries of PKI operations."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509 import ocsp
from django.core.management import call_command
from django.test import Client

from egov.audit.models import Entry
from egov.trust.ocsp import ocsp_request
from egov.trust.pki import certificate_issue, certificates_list, load_certificate, pki_init
from egov.trust.validation import validate_certificate
from tests.factories import PASSWORD, OfficialFactory, UserFactory, current_code, totp_device
from tests.trust.pki_fixtures import BASE_URL, make_pki

pytestmark = pytest.mark.django_db


@pytest.fixture
def pki(tmp_path: Path, settings) -> Path:  # type: ignore[no-untyped-def]
    """A PKI of its own per test: these tests revoke."""
    directory = make_pki(tmp_path / "pki")
    settings.PKI_DIR = directory
    return directory


def _person(pki: Path, name: str = "person") -> x509.Certificate:
    issued = certificate_issue(
        directory=pki,
        profile="citizen-authentication",
        common_name="P",
        name=name,
        base_url=BASE_URL,
    )
    return load_certificate(issued.certificate_path)


def _ocsp_post(client: Client, der: bytes) -> ocsp.OCSPResponse:
    response = client.post("/trust/ocsp", data=der, content_type="application/ocsp-request")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/ocsp-response"
    assert response["Cache-Control"] == "no-store"
    return ocsp.load_der_ocsp_response(response.content)


def test_ca_certificates_are_served_as_pem(client, pki):
    for name in ("root", "issuing"):
        response = client.get(f"/trust/ca/{name}.pem")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/x-pem-file"
        assert load_certificate(response.content) == load_certificate(pki / f"{name}.cert.pem")
    response = client.get("/trust/ca/other.pem", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert "no certification authority of that name" in response.content.decode()


def test_the_crl_is_der_and_reissued_when_it_nears_its_next_update(client, pki):
    response = client.get("/trust/crl/issuing.crl")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(response.content)
    issuing = load_certificate(pki / "issuing.cert.pem")
    assert crl.is_signature_valid(issuing.public_key())
    number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    # A CRL near its next update: the next request gets a fresh one.
    from egov.trust.pki import revocation

    old = revocation.CRL_VALIDITY
    revocation.CRL_VALIDITY = revocation.CRL_REFRESH / 2
    try:
        revocation.crl_issue(directory=pki)
    finally:
        revocation.CRL_VALIDITY = old
    fresh = x509.load_der_x509_crl(client.get("/trust/crl/issuing.crl").content)
    assert fresh.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == number + 2
    assert fresh.next_update_utc - fresh.last_update_utc == revocation.CRL_VALIDITY
    assert client.get("/trust/crl/root.crl").status_code == 404


def test_ocsp_over_post_and_get_in_both_base64_forms(client, pki):
    certificate = _person(pki)
    der = ocsp_request(certificate, load_certificate(pki / "issuing.cert.pem"), nonce=b"n" * 16)
    answer = _ocsp_post(client, der)
    assert answer.certificate_status is ocsp.OCSPCertStatus.GOOD
    for encoded in (base64.b64encode(der).decode(), base64.urlsafe_b64encode(der).decode()):
        response = client.get(f"/trust/ocsp/{encoded}")
        assert response.status_code == 200
        assert ocsp.load_der_ocsp_response(response.content).serial_number == (
            certificate.serial_number
        )


@pytest.mark.parametrize(
    "body,content_type",
    [
        (b"junk", "application/ocsp-request"),
        (b"", "application/ocsp-request"),
        (b"\x30\x00", "text/plain"),
        (b"0" * 20000, "application/ocsp-request"),
    ],
)
def test_malformed_ocsp_posts_get_the_malformed_status(client, pki, body, content_type):
    response = client.post("/trust/ocsp", data=body, content_type=content_type)
    assert response.status_code == 200
    answer = ocsp.load_der_ocsp_response(response.content)
    assert answer.response_status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_malformed_ocsp_gets_and_other_methods(client, pki):
    for path in ("/trust/ocsp/%25%25%25", "/trust/ocsp/AAAA", "/trust/ocsp/!!"):
        response = client.get(path)
        assert response.status_code == 200
        answer = ocsp.load_der_ocsp_response(response.content)
        assert answer.response_status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    assert client.get("/trust/ocsp").status_code == 405
    assert client.post("/trust/ca/root.pem").status_code == 405


def test_cli_revocation_is_visible_to_ocsp_and_validation_at_once_and_in_the_ledger(client, pki):
    certificate = _person(pki)
    issuing = load_certificate(pki / "issuing.cert.pem")
    assert validate_certificate(certificate, [issuing], purpose="authentication").valid
    call_command(
        "pki",
        "revoke",
        "--serial",
        str(certificate.serial_number),
        "--reason",
        "superseded",
        stdout=io.StringIO(),
    )
    answer = _ocsp_post(client, ocsp_request(certificate, issuing))
    assert answer.certificate_status is ocsp.OCSPCertStatus.REVOKED
    assert answer.revocation_reason is x509.ReasonFlags.superseded
    assert (
        validate_certificate(certificate, [issuing], purpose="authentication").reason == "revoked"
    )
    entry = Entry.objects.filter(kind="pki.revoked").latest("id")
    assert entry.data["serial"] == str(certificate.serial_number)
    assert entry.data["reason"] == "superseded"


@pytest.fixture
def admin_client(client):  # type: ignore[no-untyped-def]
    admin = UserFactory(kind="admin", personal_number=None, is_superuser=True)
    device = totp_device(admin)
    client.post("/en/account/login/", {"username": admin.email, "password": PASSWORD})
    client.post("/en/account/login/code/", {"token": current_code(device)})
    return client


PAGE = "/en/admin/trust/certificates/"


def test_admin_lists_certificates_and_revokes_with_a_reason(admin_client, pki, client):
    certificate = _person(pki, "person-admin")
    page = admin_client.get(PAGE)
    assert page.status_code == 200
    html = page.content.decode()
    assert "person-admin" in html and f"{certificate.serial_number:x}" in html
    response = admin_client.post(
        PAGE, {"serial": str(certificate.serial_number), "reason": "key_compromise"}
    )
    assert response.status_code == 302
    entry = next(e for e in certificates_list(directory=pki) if e["name"] == "person-admin")
    assert entry["reason"] == "key_compromise" and entry["revoked_at"]
    answer = _ocsp_post(
        Client(), ocsp_request(certificate, load_certificate(pki / "issuing.cert.pem"))
    )
    assert answer.certificate_status is ocsp.OCSPCertStatus.REVOKED
    ledger = Entry.objects.filter(kind="pki.revoked").latest("id")
    assert ledger.data["name"] == "person-admin"


def test_admin_refuses_bad_input_and_changes_nothing(admin_client, pki):
    before = certificates_list(directory=pki)
    for data in (
        {"serial": "x", "reason": "key_compromise"},
        {"serial": "1", "reason": "bogus"},
        {"serial": "12345", "reason": "superseded"},
    ):
        response = admin_client.post(PAGE, data, follow=True)
        assert response.status_code == 200
    assert certificates_list(directory=pki) == before
    assert not Entry.objects.filter(kind="pki.revoked").exists()


def test_only_platform_admins_reach_the_certificate_page(client, pki):
    certificate = _person(pki, "person-guarded")
    before = certificates_list(directory=pki)
    assert client.get(PAGE).status_code == 302  # anonymous: to the login page
    for user in (UserFactory(), OfficialFactory()):
        other = Client()
        other.force_login(user)
        assert other.get(PAGE).status_code in (302, 403)
        response = other.post(
            PAGE, {"serial": str(certificate.serial_number), "reason": "superseded"}
        )
        assert response.status_code in (302, 403)
    assert certificates_list(directory=pki) == before


def test_trust_setup_issues_the_platform_certificates_once(tmp_path, settings):
    directory = tmp_path / "setup"
    settings.PKI_DIR = directory
    call_command("pki", "init", stdout=io.StringIO())
    from egov.catalog.models import Agency

    Agency.objects.get_or_create(code="TST", defaults={"name": "Test agency", "short_name": "T"})
    first_entry = Entry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    output = io.StringIO()
    call_command("trust", "setup", stdout=output)
    names = {entry["name"] for entry in certificates_list(directory=directory)}
    assert {"ocsp", "tsa", "ledger", "agency-tst-documents"} <= names
    profiles = {entry["name"]: entry["profile"] for entry in certificates_list(directory=directory)}
    assert profiles["ocsp"] == "ocsp-responder" and profiles["tsa"] == "tsa"
    assert profiles["agency-tst-documents"] == "document-signing"
    count = len(certificates_list(directory=directory))
    again = io.StringIO()
    call_command("trust", "setup", stdout=again)
    assert "0 certificates issued" in again.getvalue()
    assert len(certificates_list(directory=directory)) == count
    assert Entry.objects.filter(kind="pki.issued", id__gt=first_entry).count() == count
    documents = load_certificate(directory / "issued" / "agency-tst-documents.cert.pem")
    access = documents.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    assert [d.access_location.value for d in access] == [
        f"{settings.PORTAL_BASE_URL}/trust/ocsp",
        f"{settings.PORTAL_BASE_URL}/trust/ca/issuing.pem",
    ]


def test_trust_setup_replaces_a_certificate_issued_before_its_profile_gained_a_purpose(
    tmp_path, settings
):
    """A document-signing certificate of an older profile (no RFC 9336 documentSigning) is
    refused for documents: `egov trust setup` issues a new one in its place, once."""
    from egov.catalog.models import Agency
    from egov.trust.pki import certificate_issue
    from egov.trust.pki.profiles import PROFILES, Profile

    directory = tmp_path / "older"
    settings.PKI_DIR = directory
    call_command("pki", "init", stdout=io.StringIO())
    Agency.objects.get_or_create(code="OLD", defaults={"name": "Old agency", "short_name": "O"})
    current = PROFILES["document-signing"]
    older = Profile(name=current.name, key_usages=current.key_usages, validity=current.validity)
    PROFILES["document-signing"] = older
    try:
        certificate_issue(
            directory=directory,
            profile="document-signing",
            common_name="Old agency",
            name="agency-old-documents",
        )
    finally:
        PROFILES["document-signing"] = current
    call_command("trust", "setup", stdout=io.StringIO())
    entries = [
        e for e in certificates_list(directory=directory) if e["name"] == "agency-old-documents"
    ]
    assert len(entries) == 2
    renewed = load_certificate(directory / "issued" / "agency-old-documents.cert.pem")
    usages = renewed.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36") in list(usages)
    again = io.StringIO()
    call_command("trust", "setup", stdout=again)
    assert "0 certificates issued" in again.getvalue()


def test_trust_setup_without_a_pki_is_a_clear_error(tmp_path, settings):
    from django.core.management.base import CommandError

    settings.PKI_DIR = tmp_path / "none"
    with pytest.raises(CommandError, match="not initialised"):
        call_command("trust", "setup", stdout=io.StringIO())


def test_the_pem_of_another_pki_is_not_ours(tmp_path, pki):
    other = tmp_path / "other"
    pki_init(directory=other)
    assert load_certificate(other / "root.cert.pem").public_bytes(
        serialization.Encoding.DER
    ) != load_certificate(pki / "root.cert.pem").public_bytes(serialization.Encoding.DER)
