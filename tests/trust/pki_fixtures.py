"""A platform PKI shared by a test module: the CAs and the certificates trust setup issues,
made with the Django-free code (no ledger) once per module."""

from __future__ import annotations

from pathlib import Path

import pytest

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
