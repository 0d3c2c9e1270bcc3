"""Many appenders at once on PostgreSQL: every entry gets a leaf, gapless, and the ledger
verifies (SQLite has one writer at a time, so there is nothing to race)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from egov.audit import record
from egov.audit.models import Entry
from egov.audit.services import entries_sequence, tree_head_sign
from egov.audit.verify import ledger_verify

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 6
EACH = 40


def test_concurrent_appenders_get_a_gapless_tree(ledger_signer) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs DATABASE_URL on PostgreSQL")
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def append(number: int) -> None:
        try:
            start.wait()
            for i in range(EACH):
                with transaction.atomic():
                    record("data.accessed", actor=f"t{number}", subject=f"S{i}", data={"i": i})
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=append, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    entries_sequence(wait=True)
    indices = sorted(Entry.objects.values_list("leaf_index", flat=True))
    assert indices == list(range(THREADS * EACH))
    tree_head_sign()
    report = ledger_verify()
    assert report.ok, report.problems
    assert report.entries == THREADS * EACH
