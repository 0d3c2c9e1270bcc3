"""Reads of the ledger, scoped to the person asking."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from egov.audit.models import Entry


def _proven_number(actor: Any) -> str:
    """The account's identification number once an e-ID (or the operator) proved it is the
    person's own; "" before: a number typed at registration shows nobody's data."""
    if getattr(actor, "personal_number_proven_at", None) is None:
        return ""
    return str(getattr(actor, "personal_number", "") or "")


def data_accesses_about(*, actor: Any) -> Iterator[Entry]:
    """The ledger's ``data.accessed`` entries about the signed-in person, newest first.
    The personal number comes from the account, never from the request, and only once
    proven."""
    personal_number = _proven_number(actor)
    if not personal_number:
        return iter(())
    return (
        Entry.objects.filter(kind="data.accessed", subject=personal_number)
        .only("id", "recorded_at", "actor", "data")
        .order_by("-recorded_at", "-id")
        .iterator(chunk_size=500)
    )


def entry_of(*, actor: Any, entry_id: int) -> Entry | None:
    """An entry about the signed-in person, or None: anyone else's is not found."""
    personal_number = _proven_number(actor)
    if not personal_number:
        return None
    return Entry.objects.filter(pk=entry_id, subject=personal_number).first()
