"""Random tampering with the stored ledger is always caught by ``egov audit verify``, and
proofs from the database verify for every untouched entry."""

from __future__ import annotations

import base64

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from egov.audit import merkle, record_many
from egov.audit.models import Entry, Node, Sequencer, TreeHead
from egov.audit.services import entry_proof, tree_head_sign
from egov.audit.verify import ledger_verify, proof_verify

pytestmark = pytest.mark.django_db

OPERATIONS = [
    "edit_data",
    "edit_subject",
    "edit_bytes_and_hash",
    "delete",
    "delete_last",
    "insert",
    "swap_order",
    "swap_bytes",
    "edit_leaf_hash",
    "edit_node",
    "head_root",
    "head_size",
    "head_timestamp",
    "head_signature",
]


class Rollback(Exception):
    pass


def _ledger(n: int, heads: list[int]) -> list[Entry]:
    """``n`` entries with a signed head after each of ``heads`` entries and at the end."""
    made: list[Entry] = []
    for cut in [*sorted(set(heads)), n]:
        if cut > len(made):
            made += record_many(
                "data.accessed",
                [(f"S{i}", {"i": i}) for i in range(len(made), cut)],
                actor="test",
            )
        tree_head_sign()
    return [Entry.objects.get(pk=entry.pk) for entry in made]


def _at(entries: list[Entry], index: int) -> Entry:
    return Entry.objects.get(leaf_index=index)


def _tamper(operation: str, entries: list[Entry], a: int, b: int) -> None:
    n = len(entries)
    target = _at(entries, a)
    if operation == "edit_data":
        Entry.objects.filter(pk=target.pk).update(data={"i": -1})
    elif operation == "edit_subject":
        Entry.objects.filter(pk=target.pk).update(subject="OTHER")
    elif operation == "edit_bytes_and_hash":
        forged = bytes(target.entry_bytes).replace(b'"i":', b'"i":1')
        Entry.objects.filter(pk=target.pk).update(
            entry_bytes=forged, leaf_hash=merkle.leaf_hash(forged), data={"i": int(f"1{a}")}
        )
    elif operation == "delete":
        Entry.objects.filter(pk=target.pk).delete()
    elif operation == "delete_last":
        Entry.objects.filter(leaf_index=n - 1).delete()
        Sequencer.objects.update(tree_size=n - 1)
    elif operation == "insert":
        for entry in Entry.objects.filter(leaf_index__gte=a).order_by("-leaf_index"):
            Entry.objects.filter(pk=entry.pk).update(leaf_index=entry.leaf_index + 1)
        # A copy of another entry, as a forger who cannot sign would make one.
        copy = Entry.objects.get(pk=entries[b].pk)
        copy.pk = None
        copy.leaf_index = a
        copy.save()
        Sequencer.objects.update(tree_size=n + 1)
    elif operation == "swap_order":
        other = _at(entries, b)
        Entry.objects.filter(pk=target.pk).update(leaf_index=-1)
        Entry.objects.filter(pk=other.pk).update(leaf_index=a)
        Entry.objects.filter(pk=target.pk).update(leaf_index=b)
    elif operation == "swap_bytes":
        other = _at(entries, b)
        for one, two in ((target, other), (other, target)):
            Entry.objects.filter(pk=one.pk).update(
                entry_bytes=bytes(two.entry_bytes),
                leaf_hash=bytes(two.leaf_hash),
                data=two.data,
                subject=two.subject,
                recorded_at=two.recorded_at,
            )
    elif operation == "edit_leaf_hash":
        Entry.objects.filter(pk=target.pk).update(leaf_hash=bytes(32))
    elif operation == "edit_node":
        node = Node.objects.order_by("?").first()
        if node is None:
            Entry.objects.filter(pk=target.pk).update(data={"i": -1})
        else:
            Node.objects.filter(pk=node.pk).update(hash=bytes(32))
    else:
        head = TreeHead.objects.order_by("?").first()
        assert head is not None
        if operation == "head_root":
            TreeHead.objects.filter(pk=head.pk).update(root_hash=merkle.leaf_hash(b"x"))
        elif operation == "head_size":
            TreeHead.objects.filter(pk=head.pk).update(tree_size=max(head.tree_size - 1, 1))
            if head.tree_size == 1:
                TreeHead.objects.filter(pk=head.pk).update(tree_size=2)
        elif operation == "head_timestamp":
            TreeHead.objects.filter(pk=head.pk).update(timestamp=head.timestamp + 1)
        elif operation == "head_signature":
            signature = bytearray(bytes(head.signature))
            signature[-1] ^= 1
            TreeHead.objects.filter(pk=head.pk).update(signature=bytes(signature))


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_tampering_is_detected(ledger_signer, data: st.DataObject) -> None:
    n = data.draw(st.integers(min_value=2, max_value=70), label="entries")
    heads = data.draw(st.lists(st.integers(min_value=1, max_value=n), max_size=3), label="heads")
    operation = data.draw(st.sampled_from(OPERATIONS), label="operation")
    a = data.draw(st.integers(min_value=0, max_value=n - 1), label="a")
    b = data.draw(st.integers(min_value=0, max_value=n - 1).filter(lambda x: x != a), label="b")
    try:
        with transaction.atomic():
            entries = _ledger(n, heads)
            assert ledger_verify().ok
            _tamper(operation, entries, a, b)
            report = ledger_verify()
            assert not report.ok, operation
            raise Rollback
    except Rollback:
        pass


def test_the_first_bad_entry_is_named(ledger_signer) -> None:
    entries = _ledger(40, [10])
    Entry.objects.filter(pk=entries[12].pk).delete()
    assert ledger_verify().problems[0].startswith("entry at leaf 12 is missing")


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_proofs_from_the_database_verify_for_untouched_entries(
    ledger_root, ledger_signer, data: st.DataObject
) -> None:
    n = data.draw(st.integers(min_value=1, max_value=300), label="entries")
    index = data.draw(st.integers(min_value=0, max_value=n - 1), label="index")
    try:
        with transaction.atomic():
            entries = _ledger(n, [])
            proof = entry_proof(_at(entries, index))
            assert proof["leaf_index"] == index
            assert len(proof["audit_path"]) <= (n - 1).bit_length()
            assert proof_verify(proof, anchors=ledger_root).ok
            altered = dict(proof)
            raw = bytearray(base64.b64decode(proof["entry"]))
            raw[len(raw) // 2] ^= 1
            altered["entry"] = base64.b64encode(bytes(raw)).decode()
            assert not proof_verify(altered, anchors=ledger_root).ok
            raise Rollback
    except Rollback:
        pass
