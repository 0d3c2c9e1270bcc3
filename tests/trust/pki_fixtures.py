"""A platform PKI shared by a test module: the CAs and the certificates trust setup issues,
made with the Django-free code (no ledger) once per module."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from egov.trust.pki import certificate_issue, pki_init

BASE_URL = "http://127.0.0.1:8000"


def make_pki(directory: Path) -> Path:
    pki_init(directory=directory, instance="XX")
    for name, profile in (
        ("ocsp", "ocsp-responder"),
        ("tsa", "tsa"),
        ("ledger", "ledger-signing"),
        ("agency-test-documents", "document-signing"),
    ):
        certificate_issue(
            directory=directory,
            profile=profile,
            common_name=f"egov {name}",
            organization="egov",
            name=name,
            base_url=BASE_URL,
        )
    return directory


@pytest.fixture(scope="module")
def module_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pki(tmp_path_factory.mktemp("pki") / "pki")


@pytest.fixture
def pki(module_pki: Path, settings) -> Path:  # type: ignore[no-untyped-def]
    settings.PKI_DIR = module_pki
    settings.PKI_PKCS11_KEYS = []
    return module_pki


def expired_copy(
    directory: Path, certificate: x509.Certificate
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A certificate as ``certificate`` (subject, extensions: its profile) with a key of its
    own, issued by the issuing CA of ``directory`` but valid only until yesterday."""
    from egov.trust.pki.ca import _issuing

    issuing, issuing_key = _issuing(Path(directory))
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(certificate.subject)
        .issuer_name(issuing.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=30))
        .not_valid_after(now - timedelta(days=1))
    )
    for extension in certificate.extensions:
        if isinstance(extension.value, x509.SubjectKeyIdentifier):
            value: x509.ExtensionType = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        else:
            value = extension.value
        builder = builder.add_extension(value, critical=extension.critical)
    return key, builder.sign(issuing_key, hashes.SHA256())
