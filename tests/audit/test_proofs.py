"""Signed tree heads, proofs through the command and offline."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from egov.audit import record_many
from egov.audit.models import Entry, TreeHead
from egov.audit.services import entry_proof, tree_head_sign
from egov.audit.verify import ledger_verify, proof_verify
from egov.trust.pki.ca import ROOT_CERT, pki_init

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("audit", *args, stdout=out)
    return out.getvalue()


def test_proof_command_prints_a_proof_that_verifies_offline(ledger_signer, tmp_path) -> None:
    entries = record_many("data.accessed", [(f"S{i}", {"i": i}) for i in range(21)], actor="x")
    tree_head_sign()
    proof = json.loads(_run("proof", str(entries[5].pk)))
    assert proof["tree_size"] == 21
    assert proof["leaf_index"] == 5
    assert len(proof["audit_path"]) <= math.ceil(math.log2(21))
    assert "BEGIN CERTIFICATE" in proof["tree_head"]["certificate"]
    path = tmp_path / "proof.json"
    path.write_text(json.dumps(proof))
    assert "the proof verifies" in _run("verify-proof", str(path))

    proof["entry"] = proof["entry"][:-4] + "AAAA"
    path.write_text(json.dumps(proof))
    with pytest.raises(CommandError, match="not in the tree"):
        _run("verify-proof", str(path))


def test_verify_proof_checks_the_issuing_authority(ledger_signer, ledger_pki, tmp_path) -> None:
    directory, _signer = ledger_pki
    entries = record_many("data.accessed", [("S", {})], actor="x")
    proof = entry_proof(Entry.objects.get(pk=entries[0].pk))
    root = (Path(directory) / ROOT_CERT).read_text()
    assert proof_verify(proof, anchors=root).ok
    other = tmp_path / "other"
    pki_init(directory=other)
    refused = proof_verify(proof, anchors=(other / ROOT_CERT).read_text())
    assert not refused.ok
    assert "not issued by the given" in refused.reason


def test_a_forged_head_signature_is_refused(ledger_root, ledger_signer) -> None:
    entries = record_many("data.accessed", [("S", {}), ("T", {})], actor="x")
    proof = entry_proof(Entry.objects.get(pk=entries[1].pk))
    proof["tree_head"]["timestamp"] += 1
    result = proof_verify(proof, anchors=ledger_root)
    assert not result.ok
    assert "signature" in result.reason


def test_verify_command_passes_then_names_an_edited_entry(ledger_signer) -> None:
    entries = record_many("case.transition", [(f"S{i}", {"i": i}) for i in range(40)])
    tree_head_sign()
    assert "the ledger verifies: 40 entries, 1 signed tree heads" in _run("verify")
    Entry.objects.filter(pk=entries[7].pk).update(data={"i": 70})
    with pytest.raises(CommandError, match=f"entry {entries[7].pk}: its fields"):
        _run("verify")


def test_sign_head_without_signer_says_so(settings) -> None:
    settings.AUDIT_SIGNER = "nobody"
    with pytest.raises(CommandError, match="no tree head signer"):
        _run("sign-head")
    assert not TreeHead.objects.exists()


def test_ledger_verify_of_empty_ledger() -> None:
    assert ledger_verify().ok


def test_the_worker_signs_a_head_once_per_interval_and_only_when_the_tree_grew(
    ledger_signer, settings, monkeypatch
) -> None:
    from egov.audit import services

    settings.AUDIT_TREE_HEAD_SECONDS = 60
    clock = [1_000_000.0]
    monkeypatch.setattr(services.time, "time", lambda: clock[0])
    record_many("data.accessed", [("S", {})], actor="x")
    assert services.tree_heads_due() == 1  # none yet: signed at once
    assert TreeHead.objects.count() == 1

    record_many("data.accessed", [("T", {})], actor="x")
    clock[0] += 59
    assert services.tree_heads_due() == 0  # grew, but the interval has not passed
    clock[0] += 2
    assert services.tree_heads_due() == 1
    assert services.tree_head_latest().tree_size == 2

    clock[0] += 600
    assert services.tree_heads_due() == 0  # the interval passed, but nothing new to sign
    assert TreeHead.objects.count() == 2
