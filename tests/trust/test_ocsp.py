"""The OCSP responder (RFC 6960): statuses read from the index at each request, the nonce
echoed, signed by the delegated responder, malformed requests answered, never a 500."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID

from egov.trust.ocsp import ocsp_request, ocsp_response
from egov.trust.pki import certificate_issue, certificate_revoke, load_certificate, pki_init
from tests.trust.pki_fixtures import BASE_URL

pytestmark = pytest.mark.django_db


def _issue(pki: Path, name: str) -> x509.Certificate:
    issued = certificate_issue(
        directory=pki,
        profile="citizen-authentication",
        common_name="Person",
        name=name,
        base_url=BASE_URL,
    )
    return load_certificate(issued.certificate_path)


def _issuing(pki: Path) -> x509.Certificate:
    return load_certificate(pki / "issuing.cert.pem")


def _ask(pki: Path, certificate: x509.Certificate, nonce: bytes | None = None) -> ocsp.OCSPResponse:
    return ocsp.load_der_ocsp_response(
        ocsp_response(ocsp_request(certificate, _issuing(pki), nonce=nonce))
    )


def test_good_then_revoked_at_once_with_reason(pki):
    certificate = _issue(pki, "ocsp-person-1")
    response = _ask(pki, certificate)
    assert response.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert response.certificate_status is ocsp.OCSPCertStatus.GOOD
    assert response.serial_number == certificate.serial_number
    certificate_revoke(directory=pki, serial=certificate.serial_number, reason="key_compromise")
    response = _ask(pki, certificate)
    assert response.certificate_status is ocsp.OCSPCertStatus.REVOKED
    assert response.revocation_reason is x509.ReasonFlags.key_compromise
    assert response.revocation_time_utc is not None


def test_response_is_signed_by_the_delegated_responder_and_echoes_the_nonce(pki):
    certificate = _issue(pki, "ocsp-person-2")
    nonce = os.urandom(16)
    response = _ask(pki, certificate, nonce=nonce)
    responder = load_certificate(pki / "issued" / "ocsp.cert.pem")
    assert response.certificates == [responder]
    assert (
        response.responder_key_hash
        == x509.SubjectKeyIdentifier.from_public_key(responder.public_key()).digest
    )
    responder.public_key().verify(
        response.signature,
        response.tbs_response_bytes,
        __import__("cryptography.hazmat.primitives.asymmetric.ec", fromlist=["ECDSA"]).ECDSA(
            hashes.SHA256()
        ),
    )
    responder.verify_directly_issued_by(_issuing(pki))
    usage = responder.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.OCSP_SIGNING]
    assert responder.extensions.get_extension_for_class(x509.OCSPNoCheck)
    assert response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == nonce
    assert response.next_update_utc > response.this_update_utc


def test_unknown_serial_is_unknown(pki):
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate_by_hash(
            *_hashes(_issuing(pki)),
            serial_number=12345,
            algorithm=hashes.SHA1(),  # noqa: S303  (clients still send SHA-1 CertIDs)
        )
        .build()
        .public_bytes(serialization.Encoding.DER)
    )
    response = ocsp.load_der_ocsp_response(ocsp_response(request))
    assert response.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert response.certificate_status is ocsp.OCSPCertStatus.UNKNOWN
    assert response.hash_algorithm.name == "sha1"


def _hashes(issuing: x509.Certificate) -> tuple[bytes, bytes]:
    from egov.trust.pki.ocsp import _issuer_hashes

    return _issuer_hashes(issuing, hashes.SHA1())  # noqa: S303


def test_another_cas_certificate_is_unauthorized(pki, tmp_path):
    other = tmp_path / "other"
    pki_init(directory=other)
    stranger = load_certificate(
        certificate_issue(
            directory=other, profile="citizen-authentication", common_name="X", name="x"
        ).certificate_path
    )
    response = ocsp.load_der_ocsp_response(
        ocsp_response(ocsp_request(stranger, load_certificate(other / "issuing.cert.pem")))
    )
    assert response.response_status is ocsp.OCSPResponseStatus.UNAUTHORIZED


@pytest.mark.parametrize("request_der", [b"", b"\x30\x03\x02\x01\x01", b"not der", os.urandom(64)])
def test_malformed_request_gets_malformed_status(pki, request_der):
    response = ocsp.load_der_ocsp_response(ocsp_response(request_der))
    assert response.response_status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_no_responder_certificate_is_an_internal_error(settings, tmp_path):
    directory = tmp_path / "bare"
    pki_init(directory=directory)
    settings.PKI_DIR = directory
    certificate = load_certificate(
        certificate_issue(
            directory=directory, profile="citizen-authentication", common_name="X", name="x"
        ).certificate_path
    )
    request = ocsp_request(certificate, load_certificate(directory / "issuing.cert.pem"))
    response = ocsp.load_der_ocsp_response(ocsp_response(request))
    assert response.response_status is ocsp.OCSPResponseStatus.INTERNAL_ERROR


def test_base64_forms_of_get_are_the_same_request(pki):
    # The views decode both; here the helper the views use.
    from egov.trust.views import ocsp_request_from_path

    request = ocsp_request(_issue(pki, "ocsp-person-3"), _issuing(pki))
    assert ocsp_request_from_path(base64.b64encode(request).decode()) == request
    assert ocsp_request_from_path(base64.urlsafe_b64encode(request).decode().rstrip("=")) == request
    assert ocsp_request_from_path("%%%") is None
