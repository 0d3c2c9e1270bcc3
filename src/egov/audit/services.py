"""Writes of the ledger: recording entries, sequencing them into the tree, signing heads.

Recording is a plain INSERT in the caller's transaction: nothing is locked, so many web and
worker processes append at once. The tree order is given afterwards by the sequencer (as
Certificate Transparency's merge delay does): under the lock of the one ``Sequencer`` row it
numbers the committed entries not yet in the tree, gapless, and stores the new subtree
hashes. It runs right after each recording transaction commits (a busy sequencer is
skipped: it picks the entry up itself before it lets go) and in the worker's sweeps.
"""

from __future__ import annotations

import base64
import datetime
import json
import math
import time
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
import structlog
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from egov.audit import merkle
from egov.audit.models import Entry, Node, Sequencer, TreeHead
from egov.audit.signing import HeadSigner, certificate_pem, signer_get

logger = structlog.get_logger(__name__)

#: Entries numbered per sequencer transaction: short enough for a short lock.
SEQUENCE_BATCH = 20_000
_KIND_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_.")


class LedgerError(Exception):
    """The ledger cannot answer (no signer, an entry not in a signed tree head yet, or a
    tree that no longer matches its signed heads)."""


# --- recording ----------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, set | frozenset):
        return sorted((_normalised(item) for item in value), key=repr)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return str(value)


def _is_plain(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` is JSON already, of the exact built-in types, without floats: what
    reads back from either database as it went in (most entries' data is)."""
    kind = type(value)
    if kind is not dict and kind is not list:
        return kind is str or kind is int or kind is bool or value is None
    if depth > 32:
        return False
    if kind is dict:
        for key in value:
            if type(key) is not str:
                return False
        items = value.values()
    else:
        items = value
    for item in items:
        kind = type(item)
        if kind is str or kind is int or kind is bool or item is None:
            continue
        if (kind is dict or kind is list) and _is_plain(item, depth + 1):
            continue
        return False
    return True


def _normalised(value: Any) -> Any:
    """JSON-native values only, so the data read back serialises to the same bytes (a
    float would come back from PostgreSQL's jsonb in another spelling: it is kept as its
    text, as is a Decimal; a date as ISO 8601; anything else as ``str``)."""
    if _is_plain(value):
        return value
    try:
        text = json.dumps(value, default=_plain, allow_nan=False, ensure_ascii=False)
    except ValueError:  # NaN or infinity
        text = json.dumps(_finite(value), default=_plain, ensure_ascii=False)
    return json.loads(text, parse_float=str)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Mapping):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def _actor_fields(actor: Any) -> tuple[str, int | None]:
    if actor is None:
        return "", None
    if isinstance(actor, str):
        return actor[:200], None
    pk = getattr(actor, "pk", None)
    if pk is None:
        return "", None  # an anonymous user
    return f"user:{pk}", int(pk)


def moment_text(recorded_at: datetime.datetime) -> str:
    """How an entry's bytes write its time: UTC, ISO 8601 with microseconds and offset."""
    return recorded_at.astimezone(datetime.UTC).isoformat(timespec="microseconds")


def entry_bytes_of(
    *,
    recorded_at: datetime.datetime | str,
    kind: str,
    actor: str,
    actor_user_id: int | None,
    subject: str,
    data: Mapping[str, Any],
) -> bytes:
    """The exact leaf input of an entry: its fields as canonical JSON (``recorded_at`` a
    datetime, or already written as :func:`moment_text` writes it)."""
    return merkle.canonical(
        {
            "v": 1,
            "at": recorded_at if isinstance(recorded_at, str) else moment_text(recorded_at),
            "kind": kind,
            "actor": actor,
            "actor_user_id": actor_user_id,
            "subject": subject,
            "data": data,
        }
    )


def _check_kind(kind: str) -> None:
    parts = kind.split(".")
    if (
        len(kind) > 64
        or len(parts) < 2
        or not set(kind) <= _KIND_CHARS
        or any(not part or not part[0].isalpha() for part in parts)
    ):
        raise ValueError(f"a ledger entry's kind is a dotted lower-case name, not {kind!r}")


def _new_entry(
    kind: str,
    actor: str,
    user_id: int | None,
    subject: str,
    data: Any,
    at: datetime.datetime,
    at_text: str = "",
) -> Entry:
    subject = str(subject or "")[:32]
    values = _normalised(dict(data or {}))
    entry_bytes = entry_bytes_of(
        recorded_at=at_text or at,
        kind=kind,
        actor=actor,
        actor_user_id=user_id,
        subject=subject,
        data=values,
    )
    fields = {
        "id": None,
        "recorded_at": at,
        "kind": kind,
        "actor": actor,
        "actor_user_id": user_id,
        "subject": subject,
        "data": values,
        "entry_bytes": entry_bytes,
        "leaf_hash": merkle.leaf_hash(entry_bytes),
        "leaf_index": None,
    }
    # Built as Django builds a row it read (positional): the keyword path costs more.
    names = _attnames()
    entry = Entry.from_db(None, names, [fields[name] for name in names])
    entry._state.adding = True
    return entry


def _attnames() -> list[str]:
    if not _ATTNAMES:
        _ATTNAMES.extend(field.attname for field in Entry._meta.concrete_fields)
    return _ATTNAMES


_ATTNAMES: list[str] = []


def entry_record(
    *, kind: str, actor: Any = None, subject: str = "", data: Mapping[str, Any] | None = None
) -> Entry:
    _check_kind(kind)
    actor_text, user_id = _actor_fields(actor)
    entry = _new_entry(kind, actor_text, user_id, subject, data, timezone.now())
    with transaction.atomic(savepoint=False):
        _insert([entry])
        _sequence_on_commit()
    return entry


def entries_record(
    *,
    kind: str,
    items: Iterable[tuple[str, Mapping[str, Any] | None]],
    actor: Any = None,
) -> list[Entry]:
    _check_kind(kind)
    actor_text, user_id = _actor_fields(actor)
    now = timezone.now()
    at_text = moment_text(now)
    entries = [_new_entry(kind, actor_text, user_id, s, d, now, at_text) for s, d in items]
    if not entries:
        return []
    with transaction.atomic(savepoint=False):
        _insert(entries)
        _sequence_on_commit()
    return entries


#: The columns an entry is stored in besides its id and leaf index (in this order).
COLUMNS = (
    "recorded_at",
    "kind",
    "actor",
    "actor_user_id",
    "subject",
    "data",
    "entry_bytes",
    "leaf_hash",
)
_INSERT_ROWS = 500


def _row(entry: Entry, at: Any) -> list[Any]:
    return [
        at,
        entry.kind,
        entry.actor,
        entry.actor_user_id,
        entry.subject,
        # The data is JSON-native (normalised): this text is what the column holds.
        orjson.dumps(entry.data).decode(),
        entry.entry_bytes,
        entry.leaf_hash,
    ]


def _saved(entry: Entry, pk: int, alias: str) -> None:
    entry.id = pk
    entry._state.adding = False
    entry._state.db = alias


def _insert(entries: list[Entry]) -> None:
    """Store new entries and set their ids. ``bulk_create`` spends more time preparing each
    field of each row than the database spends storing them: on PostgreSQL a batch takes its
    ids from the table's sequence and goes in by COPY; otherwise (and for one entry) a
    multi-row INSERT ... RETURNING id."""
    if connection.vendor == "postgresql" and len(entries) > 1:
        _insert_copy(entries)
        return
    table = connection.ops.quote_name(Entry._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(column) for column in COLUMNS)
    adapt = connection.ops.adapt_datetimefield_value
    placeholders = "(" + ", ".join(["%s"] * len(COLUMNS)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(entries), _INSERT_ROWS):
            chunk = entries[start : start + _INSERT_ROWS]
            parameters: list[Any] = []
            for entry in chunk:
                parameters += _row(entry, adapt(entry.recorded_at))
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES "  # noqa: S608
                + ", ".join([placeholders] * len(chunk))
                + " RETURNING id",
                parameters,
            )
            # Both databases return the rows of a multi-row VALUES in its order.
            for entry, (pk,) in zip(chunk, cursor.fetchall(), strict=True):
                _saved(entry, pk, connection.alias)


#: The PostgreSQL types of ``id`` and :data:`COLUMNS`, for a binary COPY.
_COPY_TYPES = [
    "int8",
    "timestamptz",
    "varchar",
    "varchar",
    "int8",
    "varchar",
    "jsonb",
    "bytea",
    "bytea",
]


def _insert_copy(entries: list[Entry]) -> None:
    """A batch by binary COPY (the server parses no text), ids from the table's sequence."""
    from psycopg.types.json import set_json_dumps

    table = Entry._meta.db_table
    quoted = connection.ops.quote_name(table)
    columns = ", ".join(connection.ops.quote_name(column) for column in ("id", *COLUMNS))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [quoted, len(entries)],
        )
        ids = sorted(pk for (pk,) in cursor.fetchall())
        raw = cursor.cursor
        # The data is JSON-native (normalised): orjson writes it for the jsonb column.
        set_json_dumps(orjson.dumps, context=raw)
        with raw.copy(f"COPY {quoted} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(_COPY_TYPES)
            for entry, pk in zip(entries, ids, strict=True):
                copy.write_row(
                    (
                        pk,
                        entry.recorded_at,
                        entry.kind,
                        entry.actor,
                        entry.actor_user_id,
                        entry.subject,
                        entry.data,
                        entry.entry_bytes,
                        entry.leaf_hash,
                    )
                )
    alias = connection.alias
    for entry, pk in zip(entries, ids, strict=True):
        _saved(entry, pk, alias)


#: When this process last sequenced after a commit (time.monotonic()).
_last_on_commit = [-math.inf]


def _sequence_on_commit() -> None:
    if not settings.AUDIT_SEQUENCE_ON_COMMIT:
        return
    pending = connection.run_on_commit
    if any(item[1] is _sequence_after_commit for item in pending):
        return
    transaction.on_commit(_sequence_after_commit)


def _sequence_after_commit() -> None:
    """Sequence now unless this process did less than ``EGOV_AUDIT_SEQUENCE_SPACING_MS``
    ago: under load one sequencing takes the entries of many commits (each is a
    transaction of its own, with its own flush to disk), and what a busy moment leaves
    pending goes in with the next commit's or the worker's sweep."""
    now = time.monotonic()
    if (now - _last_on_commit[0]) * 1000 < settings.AUDIT_SEQUENCE_SPACING_MS:
        return
    _last_on_commit[0] = now
    try:
        entries_sequence(wait=False)
    except Exception:  # the entry is committed; the next sweep sequences it
        logger.exception("audit_sequence_failed")


# --- sequencing -----------------------------------------------------------------------------


def _sequencer_row() -> None:
    if Sequencer.objects.filter(pk=1).exists():
        return
    try:
        with transaction.atomic():
            Sequencer.objects.create(pk=1, tree_size=0)
    except IntegrityError:
        pass  # created by another process meanwhile


def entries_sequence(*, wait: bool = True) -> int:
    """Put every committed entry not yet in the tree into it; returns how many. With
    ``wait=False`` it returns 0 at once when another process is sequencing (that one loops
    until nothing is pending, so it takes this process's entries too)."""
    total = 0
    while True:
        done = _sequence_batch(wait=wait)
        if done is None:
            return total
        total += done
        if done < SEQUENCE_BATCH:
            return total


def _sequence_batch(*, wait: bool) -> int | None:
    """Number the oldest pending entries under the sequencer's lock: how many, or None when
    another process holds the lock (and ``wait`` is false)."""
    table = connection.ops.quote_name(Entry._meta.db_table)
    with transaction.atomic():
        rows = Sequencer.objects.filter(pk=1)
        if connection.features.has_select_for_update_skip_locked and not wait:
            rows = rows.select_for_update(skip_locked=True)
        else:
            rows = rows.select_for_update()
        with connection.cursor() as cursor:
            # One statement reads the lock and the pending ids (the partial index's order).
            sql, params = rows.values_list("tree_size").query.sql_with_params()
            cursor.execute(sql, params)
            locked = cursor.fetchone()
            if locked is None:
                if Sequencer.objects.filter(pk=1).exists():
                    return None  # locked by another sequencer
                _sequencer_row()
                return _sequence_batch(wait=wait)
            old = int(locked[0])
            cursor.execute(
                f"SELECT id FROM {table} WHERE leaf_index IS NULL "  # noqa: S608
                "ORDER BY id LIMIT %s",
                [SEQUENCE_BATCH],
            )
            ids = [pk for (pk,) in cursor.fetchall()]
            if not ids:
                return 0
            _leaves_number(cursor, table, ids, old)
        new = old + len(ids)
        _nodes_store(old, new)
        Sequencer.objects.filter(pk=1).update(tree_size=new)
    logger.info("audit_sequenced", entries=len(ids), tree_size=new)
    return len(ids)


def _leaves_number(cursor: Any, table: str, ids: list[int], first: int) -> None:
    """Give the entries ``ids`` (in order) the leaf indexes from ``first`` on: one UPDATE
    joined to the ids by their primary key (a join to the pending entries by a sub-select
    made PostgreSQL scan the whole table each time)."""
    if connection.vendor == "postgresql":
        cursor.execute(
            f"UPDATE {table} SET leaf_index = numbered.position FROM ("  # noqa: S608
            "SELECT unnest(%s::bigint[]) AS id, "
            "generate_series(%s::bigint, %s::bigint) AS position) AS numbered "
            f"WHERE {table}.id = numbered.id",
            [ids, first, first + len(ids) - 1],
        )
    else:
        cursor.executemany(
            f"UPDATE {table} SET leaf_index = %s WHERE id = %s",  # noqa: S608
            [(first + offset, pk) for offset, pk in enumerate(ids)],
        )
    if cursor.rowcount not in (-1, len(ids)) and connection.vendor == "postgresql":
        raise LedgerError("entries to number changed under the sequencer's lock")


def _level_hashes(
    level: int, low: int, high: int, known: Mapping[tuple[int, int], bytes]
) -> list[bytes]:
    """Hashes of complete subtrees ``low``..``high`` (exclusive) of a stored level."""
    found: dict[int, bytes]
    if level == 0:
        leaves = Entry.objects.filter(leaf_index__gte=low, leaf_index__lt=high).values_list(
            "leaf_index", "leaf_hash"
        )
        found = {int(i or 0): bytes(h) for i, h in leaves}
    else:
        found = {
            index: known[(level, index)] for index in range(low, high) if (level, index) in known
        }
        if len(found) < high - low:
            nodes = Node.objects.filter(level=level, index__gte=low, index__lt=high).values_list(
                "index", "hash"
            )
            found.update({int(i): bytes(h) for i, h in nodes if int(i) not in found})
    if len(found) != high - low:
        raise LedgerError(f"subtree hashes of level {level} are missing from {low} to {high}")
    return [found[index] for index in range(low, high)]


def _nodes_store(old: int, new: int) -> None:
    made: dict[tuple[int, int], bytes] = {}
    width = 1 << merkle.NODE_STRIDE
    for level in merkle.stored_levels(new):
        first, last = old >> level, new >> level
        if first == last:
            break
        below = level - merkle.NODE_STRIDE
        children = _level_hashes(below, first * width, last * width, made)
        for offset, index in enumerate(range(first, last)):
            made[(level, index)] = merkle.fold(children[offset * width : (offset + 1) * width])
    Node.objects.bulk_create(
        [Node(level=level, index=index, hash=h) for (level, index), h in made.items()],
        batch_size=5000,
    )


# --- reading the tree ---------------------------------------------------------------------


class DatabaseSource:
    """Complete subtree hashes from the stored levels; :meth:`fetch` reads all a proof
    needs in one query per stored level."""

    def __init__(self) -> None:
        self.hashes: dict[tuple[int, int], bytes] = {}

    def fetch(self, keys: Iterable[tuple[int, int]]) -> None:
        wanted: dict[int, set[int]] = {}
        for level, index in keys:
            base = level - level % merkle.NODE_STRIDE
            span = 1 << (level - base)
            wanted.setdefault(base, set()).update(range(index * span, (index + 1) * span))
        for base, indices in wanted.items():
            if base == 0:
                leaves = Entry.objects.filter(leaf_index__in=indices).values_list(
                    "leaf_index", "leaf_hash"
                )
                self.hashes.update({(0, int(i or 0)): bytes(h) for i, h in leaves})
            else:
                nodes = Node.objects.filter(level=base, index__in=indices).values_list(
                    "index", "hash"
                )
                self.hashes.update({(base, int(i)): bytes(h) for i, h in nodes})

    def complete(self, level: int, index: int) -> bytes:
        if (level, index) in self.hashes:
            return self.hashes[(level, index)]
        base = level - level % merkle.NODE_STRIDE
        span = 1 << (level - base)
        try:
            row = [self.hashes[(base, i)] for i in range(index * span, (index + 1) * span)]
        except KeyError:
            raise LedgerError(f"the subtree {level}/{index} is not stored") from None
        value = merkle.fold(row)
        self.hashes[(level, index)] = value
        return value


def _computed(function: Any, *args: Any) -> Any:
    needed = merkle.Needed()
    function(needed, *args)
    source = DatabaseSource()
    source.fetch(needed.keys)
    return function(source, *args)


def tree_size() -> int:
    return int(Sequencer.objects.filter(pk=1).values_list("tree_size", flat=True).first() or 0)


def tree_root(size: int) -> bytes:
    return bytes(_computed(merkle.subtree_root, 0, size))


def inclusion_path(index: int, size: int) -> list[bytes]:
    return list(_computed(merkle.inclusion_path, index, size))


def consistency_path(first: int, second: int) -> list[bytes]:
    return list(_computed(merkle.consistency_path, first, second))


# --- signed tree heads ----------------------------------------------------------------------


def tree_head_sign(*, signer: HeadSigner | None = None) -> TreeHead:
    """Sequence what is pending and sign the tree as it is now."""
    entries_sequence(wait=True)
    if signer is None:
        try:
            signer = signer_get(settings.AUDIT_SIGNER)
        except Exception as error:
            raise LedgerError(f"no tree head signer {settings.AUDIT_SIGNER!r}") from error
    with transaction.atomic():
        size = tree_size()
        root = tree_root(size)
        timestamp = int(time.time() * 1000)
        data = merkle.tree_head_bytes(tree_size=size, timestamp=timestamp, root_hash=root)
        head = TreeHead.objects.create(
            tree_size=size,
            root_hash=root,
            timestamp=timestamp,
            signature=signer.sign(data),
            certificate=certificate_pem(signer.certificate),
            chain="".join(certificate_pem(c) for c in getattr(signer, "chain", ()) or ()),
        )
    logger.info("audit_tree_head_signed", tree_size=size)
    return head


def tree_head_latest() -> TreeHead | None:
    return TreeHead.objects.order_by("-tree_size", "-timestamp", "-id").first()


def tree_heads_due() -> int:
    """The worker's periodic job: sequence, and sign a head when the last one is older than
    ``EGOV_AUDIT_TREE_HEAD_SECONDS`` and the tree grew (or there is none yet)."""
    entries_sequence(wait=False)
    latest = tree_head_latest()
    size = tree_size()
    age_ms = int(time.time() * 1000) - (latest.timestamp if latest else 0)
    if latest is not None and (
        age_ms < settings.AUDIT_TREE_HEAD_SECONDS * 1000 or latest.tree_size == size
    ):
        return 0
    try:
        tree_head_sign()
    except LedgerError:
        logger.warning("audit_tree_head_unsigned", reason="no_signer")
        return 0
    return 1


# --- proofs ---------------------------------------------------------------------------------


def entry_proof(entry: Entry) -> dict[str, Any]:
    """What ``egov audit proof`` prints: the entry's bytes, its inclusion proof in the
    newest signed tree head that holds it, and that head with its signature and
    certificate. A head is signed now when none holds the entry yet."""
    if entry.leaf_index is None:
        entries_sequence(wait=True)
        entry.refresh_from_db(fields=["leaf_index"])
    if entry.leaf_index is None:
        raise LedgerError("the entry is not in the tree yet")
    head = tree_head_latest()
    if head is None or head.tree_size <= entry.leaf_index:
        head = tree_head_sign()
    root = tree_root(head.tree_size)
    if root != bytes(head.root_hash):
        raise LedgerError("the ledger does not match its signed tree head: run egov audit verify")
    path = inclusion_path(entry.leaf_index, head.tree_size)
    return {
        "entry_id": entry.pk,
        "entry": base64.b64encode(bytes(entry.entry_bytes)).decode(),
        "leaf_index": entry.leaf_index,
        "tree_size": head.tree_size,
        "audit_path": merkle.as_hex(path),
        "root_hash": root.hex(),
        "tree_head": {
            "tree_size": head.tree_size,
            "timestamp": head.timestamp,
            "root_hash": bytes(head.root_hash).hex(),
            "signature": base64.b64encode(bytes(head.signature)).decode(),
            "signature_algorithm": "ecdsa-with-SHA256",
            "signed_bytes": "egov-audit-tree-head-v1 || 0x00 || uint64 timestamp_ms "
            "|| uint64 tree_size || root_hash",
            "certificate": head.certificate,
            "chain": head.chain,
        },
    }


def proof_size_limit(size: int) -> int:
    return math.ceil(math.log2(size)) if size > 1 else 0
