"""Reads of the ledger, scoped to the person asking."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from egov.audit.models import Entry


def _proven_number(actor: Any, identity_proven: bool) -> str:
    """The account's identification number when the caller says it is the person's own
    (proven for the account, or an e-ID in this session); "" otherwise: a number typed at
    registration shows nobody's data."""
    if not identity_proven:
        return ""
    return str(getattr(actor, "personal_number", "") or "")


def data_accesses_about(*, actor: Any, identity_proven: bool) -> Iterator[Entry]:
    """The ledger's ``data.accessed`` entries about the signed-in person, newest first.
    The personal number comes from the account, never from the request, and only once
    proven."""
    personal_number = _proven_number(actor, identity_proven)
    if not personal_number:
        return iter(())
    return (
        Entry.objects.filter(kind="data.accessed", subject=personal_number)
        .only("id", "recorded_at", "actor", "data")
        .order_by("-recorded_at", "-id")
        .iterator(chunk_size=500)
    )


def entry_of(*, actor: Any, entry_id: int, identity_proven: bool) -> Entry | None:
    """An entry about the signed-in person, or None: anyone else's is not found."""
    personal_number = _proven_number(actor, identity_proven)
    if not personal_number:
        return None
    return Entry.objects.filter(pk=entry_id, subject=personal_number).first()
