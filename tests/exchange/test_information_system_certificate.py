"""Certificates of information systems: TLS client authentication only."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from egov.trust.pki import certificate_issue, load_certificate, pki_init


def test_information_system_certificate_is_for_tls_client_authentication_only(
    tmp_path: Path,
) -> None:
    pki_init(directory=tmp_path / "pki")
    issued = certificate_issue(
        directory=tmp_path / "pki",
        profile="information-system",
        common_name="BY/GOV/NCES/portal",
        name="portal",
    )
    certificate = load_certificate(issued.certificate_path)

    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    extended = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert usage.digital_signature is True
    assert (usage.content_commitment, usage.key_encipherment, usage.key_agreement) == (
        False,
        False,
        False,
    )
    assert list(extended) == [ExtendedKeyUsageOID.CLIENT_AUTH]
