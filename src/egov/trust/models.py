"""What the trust services keep in the database.

The timestamp authority's serial numbers come from one counter row. Each process takes a
block of them at a time (one write per block, not per token): a serial is never handed out
twice, by any process, across restarts, on SQLite (the write lock) and PostgreSQL (the row
lock) alike. A block a process does not use up leaves a gap, which RFC 3161 allows.
"""

from __future__ import annotations

import threading

from django.db import models, transaction
from django.db.models import F

#: Serial numbers a process takes at once.
SERIAL_BLOCK = 100


class TimestampSerialCounter(models.Model):
    """The next serial number not yet handed to any process, per authority."""

    authority = models.CharField(max_length=32, primary_key=True)
    next_serial = models.BigIntegerField(default=1)

    class Meta:
        verbose_name = "timestamp serial counter"

    def __str__(self) -> str:
        return f"{self.authority}: {self.next_serial}"


def timestamp_serials_reserve(*, count: int, authority: str = "tsa") -> range:
    """Reserve ``count`` serial numbers no other caller ever receives."""
    with transaction.atomic():
        # The update comes first: it takes the lock, so the read after it sees our own value.
        updated = TimestampSerialCounter.objects.filter(authority=authority).update(
            next_serial=F("next_serial") + count
        )
        if not updated:
            TimestampSerialCounter.objects.get_or_create(authority=authority)
            TimestampSerialCounter.objects.filter(authority=authority).update(
                next_serial=F("next_serial") + count
            )
        end = TimestampSerialCounter.objects.values_list("next_serial", flat=True).get(
            authority=authority
        )
    return range(end - count, end)


class _Block:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.serials: range = range(0)
        self.position = 0


_block = _Block()


def timestamp_serial_next() -> int:
    """The next serial number of the platform TSA (thread-safe, from this process's block)."""
    with _block.lock:
        if _block.position >= len(_block.serials):
            _block.serials = timestamp_serials_reserve(count=SERIAL_BLOCK)
            _block.position = 0
        serial = _block.serials[_block.position]
        _block.position += 1
        return serial
