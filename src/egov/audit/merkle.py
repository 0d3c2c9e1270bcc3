"""RFC 9162 Merkle tree hashing, proofs and their verification; no Django, no database.

The tree is read through a :class:`Source` of complete subtree hashes
(``complete(level, index)`` is the hash of leaves ``index * 2**level`` up to
``(index + 1) * 2**level``). Proof generation runs twice: once to learn which subtrees it
needs, then again after the source fetched them all at once.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import orjson

#: Levels whose complete subtree hashes are stored (level 0 is the leaf hash itself).
NODE_STRIDE = 4
HEAD_PREFIX = b"egov-audit-tree-head-v1\x00"
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def canonical(value: Any) -> bytes:
    """The one serialisation of an entry: sorted keys, no spaces, UTF-8, as the standard
    library's ``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)``
    writes it. orjson writes the same bytes for JSON without floats (entries hold none: a
    float is recorded as its text) several times faster; what it refuses (an integer past
    64 bits, a key that is not a string) goes the standard library's way."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode()


def tree_head_bytes(*, tree_size: int, timestamp: int, root_hash: bytes) -> bytes:
    """What a tree head's signature covers: a fixed prefix, the timestamp (milliseconds)
    and the tree size as unsigned 64-bit big-endian integers, then the 32-byte root."""
    if len(root_hash) != 32:
        raise ValueError("a root hash has 32 bytes")
    return HEAD_PREFIX + struct.pack(">QQ", timestamp, tree_size) + root_hash


class Source(Protocol):
    def complete(self, level: int, index: int) -> bytes: ...


def _split(size: int) -> int:
    """The largest power of two smaller than ``size`` (``size`` > 1)."""
    return 1 << ((size - 1).bit_length() - 1)


def subtree_root(source: Source, start: int, end: int) -> bytes:
    """MTH of leaves ``start`` to ``end`` (exclusive); ``start`` is aligned as every range
    the RFC's recursion produces is."""
    size = end - start
    if size == 0:
        return EMPTY_ROOT
    if size & (size - 1) == 0:
        level = size.bit_length() - 1
        return source.complete(level, start >> level)
    k = _split(size)
    return node_hash(subtree_root(source, start, start + k), subtree_root(source, start + k, end))


def inclusion_path(source: Source, index: int, size: int) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 §2.1.3.1, the leaf's sibling first."""
    if not 0 <= index < size:
        raise ValueError("the leaf is not in the tree")
    path: list[bytes] = []
    start, end, m = 0, size, index
    # Iteratively: the recursion appends each sibling after the deeper part of the path.
    siblings: list[tuple[int, int]] = []
    while end - start > 1:
        k = _split(end - start)
        if m < k:
            siblings.append((start + k, end))
            end = start + k
        else:
            siblings.append((start, start + k))
            start, m = start + k, m - k
    for first, last in reversed(siblings):
        path.append(subtree_root(source, first, last))
    return path


def consistency_path(source: Source, first: int, second: int) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 9162 §2.1.4.1."""
    if not 0 < first <= second:
        raise ValueError("a consistency proof needs 0 < first <= second")
    parts: list[tuple[int, int]] = []
    start, end, m, whole = 0, second, first, True
    while True:
        size = end - start
        if m == size:
            if not whole:
                parts.append((start, end))
            break
        k = _split(size)
        if m <= k:
            parts.append((start + k, end))
            end = start + k
        else:
            parts.append((start, start + k))
            start, m, whole = start + k, m - k, False
    return [subtree_root(source, a, b) for a, b in reversed(parts)]


def verify_inclusion(
    *, leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    *, first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2."""
    if not 0 < first <= second:
        return False
    if first == second:
        return not path and first_root == second_root
    proof = list(path)
    if first & (first - 1) == 0:
        proof.insert(0, first_root)
    if not proof:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


class Needed:
    """A source that answers zeros and remembers what was asked: the first pass."""

    def __init__(self) -> None:
        self.keys: set[tuple[int, int]] = set()

    def complete(self, level: int, index: int) -> bytes:
        self.keys.add((level, index))
        return bytes(32)


class MemorySource:
    """Complete subtree hashes of leaf hashes held in memory (tests, benchmarks)."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.levels: list[list[bytes]] = [list(leaves)]
        while len(self.levels[-1]) > 1:
            below = self.levels[-1]
            self.levels.append(
                [node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
            )

    def complete(self, level: int, index: int) -> bytes:
        return self.levels[level][index]


def fold(hashes: Sequence[bytes]) -> bytes:
    """The root of a complete subtree (a power-of-two count of hashes of one level)."""
    row = list(hashes)
    while len(row) > 1:
        row = [node_hash(row[i], row[i + 1]) for i in range(0, len(row), 2)]
    return row[0]


class Accumulator:
    """Streams leaf hashes in order and yields each complete subtree as it closes
    (``(level, index, hash)``): what ``egov audit verify`` rebuilds the tree with."""

    def __init__(self) -> None:
        self.stack: list[tuple[int, bytes]] = []
        self.size = 0

    def add(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        index = self.size
        self.size += 1
        stack = self.stack
        if not stack or stack[-1][0]:  # nothing to merge: an odd leaf
            stack.append((0, leaf))
            return []
        closed: list[tuple[int, int, bytes]] = []
        level, current = 0, leaf
        while stack and stack[-1][0] == level:
            current = hashlib.sha256(b"\x01" + stack.pop()[1] + current).digest()
            level += 1
            if level % NODE_STRIDE == 0:
                closed.append((level, index >> level, current))
        stack.append((level, current))
        return closed

    def root(self) -> bytes:
        if not self.stack:
            return EMPTY_ROOT
        current = self.stack[-1][1]
        for _, left in reversed(self.stack[:-1]):
            current = node_hash(left, current)
        return current


def stored_levels(size: int) -> Iterable[int]:
    level = NODE_STRIDE
    while 1 << level <= size:
        yield level
        level += NODE_STRIDE


def as_hex(hashes: Iterable[bytes]) -> list[str]:
    return [h.hex() for h in hashes]


def proof_fields(proof: Mapping[str, Any]) -> tuple[bytes, int, int, list[bytes], bytes]:
    """The parts of a proof document an offline check needs, or ValueError."""
    import base64

    entry = base64.b64decode(str(proof["entry"]), validate=True)
    index, size = int(proof["leaf_index"]), int(proof["tree_size"])
    path = [bytes.fromhex(str(h)) for h in proof["audit_path"]]
    root = bytes.fromhex(str(proof["root_hash"]))
    if any(len(h) != 32 for h in [*path, root]):
        raise ValueError("a hash has 32 bytes")
    return entry, index, size, path, root
