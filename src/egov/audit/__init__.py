"""The audit ledger: an append-only Merkle tree (RFC 9162 hashing) of who did what.

Everything above :mod:`egov.core` records into it with :func:`record` in its own transaction,
so no action commits without its entry. ADR 0010 and docs/trust.md describe the ledger.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from egov.audit.models import Entry


def record(
    kind: str,
    *,
    actor: Any = None,
    subject: str = "",
    data: Mapping[str, Any] | None = None,
) -> Entry:
    """Append one entry in the caller's transaction; ``actor`` is a user, a system or
    service id, or None; ``subject`` the personal number or UNP the entry is about."""
    from egov.audit.services import entry_record

    return entry_record(kind=kind, actor=actor, subject=subject, data=data)


def record_many(
    kind: str,
    items: Iterable[tuple[str, Mapping[str, Any] | None]],
    *,
    actor: Any = None,
) -> list[Entry]:
    """Append one entry of ``kind`` per ``(subject, data)`` pair, in one statement."""
    from egov.audit.services import entries_record

    return entries_record(kind=kind, items=items, actor=actor)


__all__ = ["record", "record_many"]
