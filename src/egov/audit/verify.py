"""Checking the whole ledger (``egov audit verify``) and one proof offline
(``egov audit verify-proof``)."""

from __future__ import annotations

import base64
import datetime
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from egov.audit import merkle
from egov.audit.signing import (
    chain_issued,
    head_trust_get,
    ledger_purpose_problem,
    signature_valid,
)


@dataclass
class Report:
    entries: int = 0
    heads: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _rows(*, pending: bool, chunk: int = 5000) -> Iterator[tuple[Any, ...]]:
    """The entries as the database holds them (in the tree by leaf index, or the pending
    ones), read with a plain cursor: the ORM's per-value converters would cost more than
    the checks. The columns are converted by :func:`_entry_problem`."""
    from django.db import connection

    from egov.audit.models import Entry
    from egov.audit.services import COLUMNS

    fields = ("id", "leaf_index", *COLUMNS)
    quote = connection.ops.quote_name
    table = quote(Entry._meta.db_table)
    names = [quote(name) for name in fields]
    if connection.vendor == "postgresql":
        # The time as the entry bytes write it, by the server: the driver's time zone
        # conversion of each value would cost more than all the checks.
        names[fields.index("recorded_at")] = (
            "to_char(recorded_at AT TIME ZONE 'UTC', "
            """'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""
        )
    columns = ", ".join(names)
    where = "IS NULL" if pending else "IS NOT NULL ORDER BY leaf_index"
    with connection.chunked_cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {table} WHERE leaf_index {where}")  # noqa: S608
        while rows := cursor.fetchmany(chunk):
            yield from rows


def _moment(value: Any) -> datetime.datetime | str:
    """A ``recorded_at`` as read: from PostgreSQL already the entry bytes' text (see
    :func:`_rows`), from SQLite the text Django stored (UTC, no offset)."""
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
    text = str(value)
    if text.endswith("+00:00"):
        return text
    return datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.UTC)


def _entry_problem(
    entry_id: int, fields: tuple[Any, ...], entry_bytes: bytes, stored_hash: bytes
) -> str:
    """Whether the columns of an entry are the ones its entry bytes record, and its leaf
    hash the hash of them; empty when they are."""
    from egov.audit.services import entry_bytes_of

    recorded_at, kind, actor, actor_user_id, subject, data = fields
    try:
        if isinstance(data, str | bytes):
            data = orjson.loads(data)
        expected = entry_bytes_of(
            recorded_at=_moment(recorded_at),
            kind=kind,
            actor=actor,
            actor_user_id=actor_user_id,
            subject=subject,
            data=data,
        )
    except (TypeError, ValueError):
        expected = b""
    if expected != entry_bytes:
        return f"entry {entry_id}: its fields are not the ones its entry bytes record (edited)"
    if merkle.leaf_hash(entry_bytes) != stored_hash:
        return f"entry {entry_id}: its leaf hash is not the hash of its entry bytes"
    return ""


def ledger_verify(*, stop_at_first: bool = True) -> Report:
    """Recompute every leaf hash from its entry bytes, the tree and its stored subtree
    hashes, every signed tree head's root and signature, and the consistency of each head
    with the one before. The first problem names the first bad entry it can."""
    from egov.audit.models import Node, Sequencer, TreeHead
    from egov.audit.services import consistency_path

    report = Report()
    problems = report.problems

    def found(problem: str) -> bool:
        problems.append(problem)
        return stop_at_first

    heads = list(TreeHead.objects.order_by("tree_size", "timestamp", "id"))
    report.heads = len(heads)
    stored = {
        (int(level), int(index)): bytes(h)
        for level, index, h in Node.objects.values_list("level", "index", "hash").iterator(
            chunk_size=20000
        )
    }
    size = int(Sequencer.objects.filter(pk=1).values_list("tree_size", flat=True).first() or 0)
    roots: dict[int, bytes] = {0: merkle.EMPTY_ROOT}
    wanted = {head.tree_size for head in heads}
    accumulator = merkle.Accumulator()
    # The entry at each leaf index, for naming the first of a range that went wrong.
    first_of_range: dict[int, int] = {}
    expected_index = 0
    for row in _rows(pending=False):
        entry_id, leaf_index = row[0], row[1]
        if leaf_index != expected_index:
            missing = f"leaf {expected_index}"
            if found(
                f"entry at {missing} is missing (deleted, or the entries after it renumbered);"
                f" the next entry is {entry_id} at leaf {leaf_index}"
            ):
                return report
            expected_index = leaf_index
        problem = _entry_problem(entry_id, row[2:8], bytes(row[8]), bytes(row[9]))
        if problem and found(problem):
            return report
        if leaf_index % 16 == 0:
            first_of_range[leaf_index] = entry_id
        for level, index, subtree in accumulator.add(bytes(row[9])):
            if stored.get((level, index)) != subtree:
                low = index << level
                if found(
                    f"leaves {low} to {low + (1 << level) - 1} (from entry "
                    f"{first_of_range.get(low, '?')}) do not hash to the stored subtree: an "
                    "entry there was replaced, inserted or reordered"
                ):
                    return report
        expected_index += 1
        report.entries += 1
        if accumulator.size in wanted:
            roots[accumulator.size] = accumulator.root()
    if report.entries != size and found(
        f"the tree has {size} leaves but {report.entries} entries are in it"
    ):
        return report
    for row in _rows(pending=True):
        problem = _entry_problem(row[0], row[2:8], bytes(row[8]), bytes(row[9]))
        if problem and found(problem):
            return report
    certificate_problem = _head_certificates(heads)
    previous = None
    for head in heads:
        problem = certificate_problem(head)
        if problem and found(f"signed tree head {head.pk} (size {head.tree_size}): {problem}"):
            return report
        data = (
            merkle.tree_head_bytes(
                tree_size=head.tree_size, timestamp=head.timestamp, root_hash=bytes(head.root_hash)
            )
            if len(bytes(head.root_hash)) == 32
            else b""
        )
        signed = bool(data) and signature_valid(head.certificate, bytes(head.signature), data)
        if not signed and found(
            f"signed tree head {head.pk} (size {head.tree_size}): bad signature"
        ):
            return report
        root = roots.get(head.tree_size)
        if root is None:
            if found(
                f"signed tree head {head.pk} covers {head.tree_size} leaves but the tree has "
                f"{report.entries}: entries were deleted"
            ):
                return report
        elif root != bytes(head.root_hash):
            low = previous.tree_size if previous else 0
            if found(
                f"signed tree head {head.pk} (size {head.tree_size}) does not match the "
                f"entries: one among leaves {low} to {head.tree_size - 1} was edited, "
                "inserted, deleted or reordered"
            ):
                return report
        if previous is not None and 0 < previous.tree_size < head.tree_size:
            try:
                path = consistency_path(previous.tree_size, head.tree_size)
            except Exception:
                path = []
            if not merkle.verify_consistency(
                first=previous.tree_size,
                second=head.tree_size,
                first_root=bytes(previous.root_hash),
                second_root=bytes(head.root_hash),
                path=path,
            ) and found(f"signed tree heads {previous.pk} and {head.pk} are not consistent"):
                return report
        previous = head
    return report


def _head_time(head: Any) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(head.timestamp / 1000, tz=datetime.UTC)


def _head_certificates(heads: list[Any]) -> Any:
    """Whether each head's certificate could sign it: the platform's PKI is asked once at
    the first and once at the last head a certificate signed (a certificate's time in force
    is one stretch and a revocation is for good, so both good means every one between is),
    and head by head only for a certificate that fails either."""
    trust = head_trust_get()
    if trust is None:
        return lambda head: "no certificate authority is configured to check its certificate"
    by_certificate: dict[str, list[Any]] = {}
    for head in heads:
        by_certificate.setdefault(head.certificate, []).append(head)
    suspect = {
        pem
        for pem, signed in by_certificate.items()
        if trust.certificate_problem(pem, _head_time(signed[0]))
        or trust.certificate_problem(pem, _head_time(signed[-1]))
    }

    def problem(head: Any) -> str | None:
        if head.certificate not in suspect:
            return None
        return trust.certificate_problem(head.certificate, _head_time(head))

    return problem


@dataclass
class ProofCheck:
    ok: bool
    reason: str
    entry: Mapping[str, Any] | None = None


def proof_verify(proof: Any, *, anchors: str) -> ProofCheck:
    """Check a proof document offline: the leaf from its bytes, the path to the root, the
    root against the signed tree head, the head's signature by its certificate, that the
    certificate is one for the ledger and leads to one of ``anchors`` (PEM: the platform's
    root). Revocation is not asked offline (``egov audit verify`` asks it)."""
    import json

    if not isinstance(proof, Mapping):
        return ProofCheck(False, "not a proof: a JSON object was expected")
    try:
        entry, index, size, path, root = merkle.proof_fields(proof)
        head = proof["tree_head"]
        head_size = int(head["tree_size"])
        head_root = bytes.fromhex(str(head["root_hash"]))
        timestamp = int(head["timestamp"])
        signature = base64.b64decode(str(head["signature"]), validate=True)
        certificate = str(head["certificate"])
    except (KeyError, TypeError, ValueError) as error:
        return ProofCheck(False, f"not a proof: a field is missing or malformed ({error})")
    try:
        described = json.loads(entry)
    except ValueError:
        described = None
    if len(path) > (max(size - 1, 0)).bit_length():
        return ProofCheck(False, "the audit path is longer than a tree of this size needs")
    if not merkle.verify_inclusion(
        leaf=merkle.leaf_hash(entry), index=index, size=size, path=path, root=root
    ):
        return ProofCheck(
            False, "the entry is not in the tree: the audit path does not lead to the root hash"
        )
    if head_size != size or head_root != root:
        return ProofCheck(False, "the root hash is not the one of the signed tree head")
    if len(head_root) != 32:
        return ProofCheck(False, "the signed tree head's root hash is malformed")
    data = merkle.tree_head_bytes(tree_size=size, timestamp=timestamp, root_hash=head_root)
    if not signature_valid(certificate, signature, data):
        return ProofCheck(
            False, "the signed tree head's signature is not valid for its certificate"
        )
    purpose = ledger_purpose_problem(certificate)
    if purpose:
        return ProofCheck(False, purpose)
    if not anchors.strip():
        return ProofCheck(False, "no certificate authority was given to check the signer against")
    if not chain_issued(certificate, str(head.get("chain", "")), anchors):
        return ProofCheck(
            False, "the tree head's certificate was not issued by the given certificate authority"
        )
    return ProofCheck(True, "the entry is in the signed tree", described)
