"""A platform PKI of its own for the documents' tests (the CAs, the TSA, the OCSP responder
and the agencies' document-signing certificates), made once per module."""

from __future__ import annotations

from pathlib import Path

import pytest

from egov.trust.pki import certificate_issue
from tests.trust.pki_fixtures import BASE_URL, make_pki

AGENCIES = ("MVD", "MGI")


def pki_make(directory: Path) -> Path:
    make_pki(directory)
    for code in AGENCIES:
        certificate_issue(
            directory=directory,
            profile="document-signing",
            common_name=f"{code} documents",
            organization=code,
            name=f"agency-{code.lower()}-documents",
            base_url=BASE_URL,
        )
    return directory


@pytest.fixture(scope="module")
def module_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pki_make(tmp_path_factory.mktemp("documents") / "pki")


@pytest.fixture
def pki(module_pki: Path, settings) -> Path:  # type: ignore[no-untyped-def]
    settings.PKI_DIR = module_pki
    settings.PKI_PKCS11_KEYS = []
    return module_pki
