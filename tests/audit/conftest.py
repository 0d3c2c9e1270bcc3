"""A real ledger certificate from the platform's PKI, and its key signing tree heads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from egov.audit.signing import head_signers
from egov.trust.pki.ca import ROOT_CERT, certificate_issue, pki_init
from egov.trust.pki.keys import load_certificate, load_certificates, load_private_key, sign


@dataclass
class FileSigner:
    certificate: x509.Certificate
    chain: list[x509.Certificate]
    key: Any

    def sign(self, data: bytes) -> bytes:
        return sign(self.key, data)


@pytest.fixture(scope="session")
def ledger_pki(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, FileSigner]:
    directory = tmp_path_factory.mktemp("ledger-pki")
    pki_init(directory=directory)
    # The OCSP responder answers the platform's own questions about the ledger certificate
    # (`egov audit verify` asks whether it was in force when each head was signed).
    certificate_issue(
        directory=directory, profile="ocsp-responder", common_name="egov ocsp", name="ocsp"
    )
    issued = certificate_issue(
        directory=directory,
        profile="ledger-signing",
        common_name="egov audit ledger",
        name="ledger",
    )
    signer = FileSigner(
        certificate=load_certificate(issued.certificate_path),
        chain=load_certificates(issued.chain_path)[1:],
        key=load_private_key(issued.key_path),
    )
    return directory, signer


@pytest.fixture
def ledger_signer(ledger_pki, settings) -> FileSigner:  # type: ignore[no-untyped-def]
    directory, signer = ledger_pki
    if "test-ledger" not in head_signers:
        head_signers.register("test-ledger")(lambda: ledger_pki[1])
    settings.AUDIT_SIGNER = "test-ledger"
    settings.PKI_DIR = directory
    return signer


@pytest.fixture
def ledger_root(ledger_pki) -> str:  # type: ignore[no-untyped-def]
    """PEM of the root the ledger's certificate leads to (what a proof is checked against)."""
    return (Path(ledger_pki[0]) / ROOT_CERT).read_text()


@pytest.fixture(autouse=True)
def empty_ledger(request: pytest.FixtureRequest) -> None:
    """Each test starts from an empty ledger (the demo seed of the test database records its
    PKI operations); the test's transaction puts them back afterwards."""
    if "django_db" not in {marker.name for marker in request.node.iter_markers()}:
        return
    request.getfixturevalue("db")
    from egov.audit.models import Entry, Node, Sequencer, TreeHead

    for model in (Entry, Node, TreeHead, Sequencer):
        model.objects.all().delete()
