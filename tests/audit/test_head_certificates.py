"""A signed tree head counts only when its certificate is the platform's ledger certificate,
in force when the head was signed: whoever can write to the database cannot recompute the
tree and re-sign it with a key of their own, and a citizen cannot "prove" an entry that was
never recorded with their e-ID key."""

from __future__ import annotations

import base64
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management import CommandError, call_command

from egov.audit import merkle, record_many
from egov.audit.models import TreeHead
from egov.audit.services import entry_proof, tree_head_sign
from egov.audit.verify import ledger_verify, proof_verify
from egov.trust.pki import certificate_issue, certificate_revoke
from egov.trust.pki.keys import load_certificate, load_certificates, load_private_key, sign
from egov.trust.validation import cache_clear
from tests.trust.signer_support import ca_make

pytestmark = pytest.mark.django_db


def _pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def _self_made() -> tuple[ec.EllipticCurvePrivateKey, str]:
    """A key and a certificate anyone can make."""
    made = ca_make()
    return made.key, _pem(made.certificate)


def _platform_key(pki, profile: str, name: str):  # type: ignore[no-untyped-def]
    """A key of the platform's own PKI, for another purpose (a person's e-ID, say)."""
    issued = certificate_issue(directory=pki, profile=profile, common_name=name, name=name)
    chain = "".join(_pem(c) for c in load_certificates(issued.chain_path)[1:])
    return (
        load_private_key(issued.key_path),
        _pem(load_certificate(issued.certificate_path)),
        chain,
    )


def _re_sign(head: TreeHead, key, certificate_pem: str) -> None:  # type: ignore[no-untyped-def]
    data = merkle.tree_head_bytes(
        tree_size=head.tree_size, timestamp=head.timestamp, root_hash=bytes(head.root_hash)
    )
    head.signature = sign(key, data)
    head.certificate = certificate_pem
    head.save(update_fields=["signature", "certificate"])


def test_heads_signed_by_the_ledger_certificate_verify(ledger_signer) -> None:
    record_many("data.accessed", [(f"S{i}", {"i": i}) for i in range(5)], actor="x")
    tree_head_sign()
    report = ledger_verify()
    assert report.ok, report.problems
    assert report.heads == 1


@pytest.mark.parametrize(
    ("maker", "problem"),
    [
        ("self-made", "not issued by the platform's certificate authority"),
        ("e-ID", "not one for signing the audit ledger"),
        ("agency", "not one for signing the audit ledger"),
    ],
)
def test_a_head_re_signed_with_another_key_is_refused(ledger_signer, ledger_pki, maker, problem):
    record_many("data.accessed", [(f"S{i}", {"i": i}) for i in range(5)], actor="x")
    head = tree_head_sign()
    if maker == "self-made":
        key, certificate = _self_made()
    else:
        profile = "citizen-authentication" if maker == "e-ID" else "document-signing"
        key, certificate, _chain = _platform_key(ledger_pki[0], profile, f"head-{maker}")
    _re_sign(head, key, certificate)
    report = ledger_verify()
    assert not report.ok
    assert problem in report.problems[0], report.problems


def test_a_head_signed_after_the_ledger_certificate_was_revoked_is_refused(
    ledger_signer, ledger_pki, settings
) -> None:
    directory, _signer = ledger_pki
    key, certificate, _chain = _platform_key(directory, "ledger-signing", "ledger-revoked")
    record_many("data.accessed", [("S", {})], actor="x")
    before = tree_head_sign()
    # Revocation times have whole seconds (as in OCSP and CRLs): the head is clearly before.
    before.timestamp -= 5000
    before.save(update_fields=["timestamp"])
    _re_sign(before, key, certificate)
    assert ledger_verify().ok  # signed while the certificate was good
    serial = x509.load_pem_x509_certificate(certificate.encode()).serial_number
    certificate_revoke(directory=directory, serial=serial, reason="key_compromise")
    cache_clear()
    assert ledger_verify().ok  # a revocation later does not undo what was signed before it

    record_many("data.accessed", [("T", {})], actor="x")
    after = tree_head_sign()
    after.timestamp = int((datetime.now(UTC) + timedelta(seconds=5)).timestamp() * 1000)
    after.save(update_fields=["timestamp"])
    _re_sign(after, key, certificate)
    report = ledger_verify()
    assert [p for p in report.problems if "revoked when the head was signed" in p], report.problems
    assert all(f"head {before.pk} " not in p for p in report.problems)


def _forged_proof(key, certificate: str, chain: str) -> dict:  # type: ignore[no-untyped-def]
    """A one-entry tree nobody recorded, signed with ``key``."""
    entry = json.dumps({"kind": "data.accessed", "subject": "3010180A000PB1"}).encode()
    root = merkle.leaf_hash(entry)
    timestamp = int(datetime.now(UTC).timestamp() * 1000)
    data = merkle.tree_head_bytes(tree_size=1, timestamp=timestamp, root_hash=root)
    return {
        "entry_id": 1,
        "entry": base64.b64encode(entry).decode(),
        "leaf_index": 0,
        "tree_size": 1,
        "audit_path": [],
        "root_hash": root.hex(),
        "tree_head": {
            "tree_size": 1,
            "timestamp": timestamp,
            "root_hash": root.hex(),
            "signature": base64.b64encode(sign(key, data)).decode(),
            "certificate": certificate,
            "chain": chain,
        },
    }


def test_a_proof_signed_with_an_e_id_or_a_self_made_key_is_refused(
    ledger_signer, ledger_pki, ledger_root, tmp_path
) -> None:
    key, certificate, chain = _platform_key(ledger_pki[0], "citizen-authentication", "e-id-x")
    forged = _forged_proof(key, certificate, chain)
    refused = proof_verify(forged, anchors=ledger_root)
    assert not refused.ok and "not one for signing the audit ledger" in refused.reason
    self_key, self_certificate = _self_made()
    refused = proof_verify(_forged_proof(self_key, self_certificate, ""), anchors=ledger_root)
    assert not refused.ok

    path = tmp_path / "forged.json"
    path.write_text(json.dumps(forged))
    with pytest.raises(CommandError, match="not one for signing the audit ledger"):
        call_command("audit", "verify-proof", str(path), stdout=io.StringIO())


def test_verify_proof_checks_against_the_platform_root_unless_given_another(
    ledger_signer, ledger_root, settings, tmp_path
) -> None:
    entries = record_many("data.accessed", [("S", {})], actor="x")
    proof = entry_proof(entries[0])
    assert not proof_verify(proof, anchors="").ok  # nothing to check the signer against
    path = tmp_path / "proof.json"
    path.write_text(json.dumps(proof))
    out = io.StringIO()
    call_command("audit", "verify-proof", str(path), stdout=out)  # the platform's root
    assert "the proof verifies" in out.getvalue()

    settings.PKI_DIR = tmp_path / "no-pki-here"
    with pytest.raises(CommandError, match="give --ca"):
        call_command("audit", "verify-proof", str(path), stdout=io.StringIO())
    root = tmp_path / "root.pem"
    root.write_text(ledger_root)
    out = io.StringIO()
    call_command("audit", "verify-proof", str(path), "--ca", str(root), stdout=out)
    assert "the proof verifies" in out.getvalue()
