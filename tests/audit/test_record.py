"""Recording entries and sequencing them into the tree."""

from __future__ import annotations

import pytest

from egov.audit import merkle, record, record_many
from egov.audit.models import Entry
from egov.audit.services import entries_sequence, tree_root, tree_size

pytestmark = pytest.mark.django_db


def test_record_stores_exact_bytes_and_leaf_hash() -> None:
    entry = record("login.failed", actor="portal", subject="3010190A001PB0", data={"n": 1.5})
    stored = Entry.objects.get(pk=entry.pk)
    assert bytes(stored.leaf_hash) == merkle.leaf_hash(bytes(stored.entry_bytes))
    assert stored.data == {"n": "1.5"}
    assert b'"kind":"login.failed"' in bytes(stored.entry_bytes)
    assert stored.leaf_index is None


def test_sequence_numbers_gapless_and_root_matches_memory() -> None:
    record_many("data.accessed", [(f"S{i}", {"i": i}) for i in range(37)], actor="x")
    assert entries_sequence() == 37
    record("case.transition", subject="S1")
    assert entries_sequence() == 1
    indices = list(Entry.objects.order_by("leaf_index").values_list("leaf_index", flat=True))
    assert indices == list(range(38))
    leaves = [
        bytes(h) for h in Entry.objects.order_by("leaf_index").values_list("leaf_hash", flat=True)
    ]
    memory = merkle.MemorySource(leaves)
    assert tree_size() == 38
    for size in (1, 2, 16, 17, 32, 38):
        assert tree_root(size) == merkle.subtree_root(memory, 0, size)


def test_bad_kind_is_refused() -> None:
    with pytest.raises(ValueError):
        record("Login")
    assert not Entry.objects.exists()
