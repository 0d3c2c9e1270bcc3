"""RFC 9162 hashing and proofs, against a plain recursive reading of the RFC."""

from __future__ import annotations

import hashlib
import math

from hypothesis import given
from hypothesis import strategies as st

from egov.audit import merkle


def mth(leaves: list[bytes]) -> bytes:
    """MTH of RFC 9162 §2.1.1, written as the RFC says it."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1 << ((n - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def entries(n: int) -> list[bytes]:
    return [f"entry {i}".encode() for i in range(n)]


def test_known_hashes() -> None:
    assert merkle.EMPTY_ROOT.hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert merkle.leaf_hash(b"").hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )


@given(st.integers(min_value=1, max_value=200))
def test_root_and_accumulator_match_the_rfc(n: int) -> None:
    data = entries(n)
    leaves = [merkle.leaf_hash(e) for e in data]
    source = merkle.MemorySource(leaves)
    accumulator = merkle.Accumulator()
    for leaf in leaves:
        list(accumulator.add(leaf))
    assert merkle.subtree_root(source, 0, n) == mth(data) == accumulator.root()


@given(st.data())
def test_inclusion_proofs_verify_are_short_and_fail_when_altered(data: st.DataObject) -> None:
    n = data.draw(st.integers(min_value=1, max_value=300))
    index = data.draw(st.integers(min_value=0, max_value=n - 1))
    items = entries(n)
    source = merkle.MemorySource([merkle.leaf_hash(e) for e in items])
    root = merkle.subtree_root(source, 0, n)
    path = merkle.inclusion_path(source, index, n)
    assert len(path) <= (math.ceil(math.log2(n)) if n > 1 else 0)
    leaf = merkle.leaf_hash(items[index])
    assert merkle.verify_inclusion(leaf=leaf, index=index, size=n, path=path, root=root)
    other = merkle.leaf_hash(items[index] + b"!")
    assert not merkle.verify_inclusion(leaf=other, index=index, size=n, path=path, root=root)
    if n > 1:
        wrong_index = data.draw(
            st.integers(min_value=0, max_value=n - 1).filter(lambda i: i != index)
        )
        assert not merkle.verify_inclusion(
            leaf=leaf, index=wrong_index, size=n, path=path, root=root
        )
        spot = data.draw(st.integers(min_value=0, max_value=len(path) - 1))
        bent = [*path]
        bent[spot] = bytes([bent[spot][0] ^ 1]) + bent[spot][1:]
        assert not merkle.verify_inclusion(leaf=leaf, index=index, size=n, path=bent, root=root)
        assert not merkle.verify_inclusion(
            leaf=leaf, index=index, size=n, path=path[:-1], root=root
        )


@given(st.data())
def test_consistency_proofs_verify_and_fail_for_another_history(data: st.DataObject) -> None:
    second = data.draw(st.integers(min_value=1, max_value=300))
    first = data.draw(st.integers(min_value=1, max_value=second))
    items = entries(second)
    source = merkle.MemorySource([merkle.leaf_hash(e) for e in items])
    first_root = merkle.subtree_root(source, 0, first)
    second_root = merkle.subtree_root(source, 0, second)
    path = merkle.consistency_path(source, first, second)
    assert len(path) <= math.ceil(math.log2(second)) + 1
    assert merkle.verify_consistency(
        first=first, second=second, first_root=first_root, second_root=second_root, path=path
    )
    # The older tree with one entry changed is not a prefix of the newer one.
    changed = items[:first]
    changed[data.draw(st.integers(min_value=0, max_value=first - 1))] += b"!"
    assert not merkle.verify_consistency(
        first=first, second=second, first_root=mth(changed), second_root=second_root, path=path
    )


_json_without_floats = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.text(st.characters(exclude_categories=["Cs"])),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(st.characters(exclude_categories=["Cs"])), children, max_size=4)
    ),
    max_leaves=20,
)


@given(_json_without_floats)
def test_canonical_bytes_are_the_standard_librarys(value: object) -> None:
    """Entries recorded before orjson wrote them verify as before: the fast serialisation
    is byte for byte the standard library's (big integers go its way)."""
    import json

    expected = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()
    assert merkle.canonical(value) == expected
