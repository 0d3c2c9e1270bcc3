"""Benchmark of the audit ledger on SQLite and on PostgreSQL (scratch databases of its own):
appends per second one per transaction (with the sequencer after each commit, and without
it, the sweeps sequencing) and batched, full verification (``egov audit verify``'s work) per
second, and proof size and time at 1 million entries, beside the raw cost of SHA-256 of one
entry in the same run.

    .venv/bin/python bench/trust_ledger.py [--quick] [--skip-postgres]

Targets (issue 11): 3,000 appends/s one per transaction and 50,000/s batched on PostgreSQL;
verification 100,000 entries/s; proofs of at most ceil(log2 n) hashes at 1 million entries.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import demo_env  # noqa: E402

POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def _postgres(action: str, name: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if action == "create":
            connection.execute(f'CREATE DATABASE "{name}"')


def _environment(data_dir: Path) -> dict[str, str]:
    return demo_env(data_dir)


def run(quick: bool = False) -> list[dict]:
    """Both databases, one process each (settings are per process); the rows of both."""
    rows: list[dict] = []
    databases = [("SQLite", "")]
    if not os.environ.get("BENCH_SKIP_POSTGRES"):
        databases.append(("PostgreSQL", f"egov_bench_ledger_{os.getpid()}"))
    for label, name in databases:
        env = _environment(Path(tempfile.mkdtemp(prefix="egov-bench-ledger-")))
        if name:
            _postgres("create", name)
            env["DATABASE_URL"] = POSTGRES.rsplit("/", 1)[0] + f"/{name}"
        try:
            command = [sys.executable, __file__, "--worker", label]
            if quick:
                command.append("--quick")
            output = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            if output.returncode:
                sys.stderr.write(output.stderr[-4000:])
                rows.append({"database": label, "measure": "failed", "value": output.returncode})
                continue
            rows += json.loads(output.stdout.strip().splitlines()[-1])
        finally:
            if name:
                _postgres("drop", name)
    return rows


# --- inside the worker process --------------------------------------------------------------


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def _worker(label: str, quick: bool) -> list[dict]:
    import django

    django.setup()
    import hashlib

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, connections, transaction

    call_command("migrate", verbosity=0)
    from egov.audit import record, record_many
    from egov.audit.models import Entry
    from egov.audit.services import entries_sequence, entry_proof, tree_head_sign, tree_size
    from egov.audit.signing import head_trust_get
    from egov.audit.verify import ledger_verify, proof_verify
    from egov.trust.setup import platform_pki_init, trust_setup

    # The platform's own ledger certificate (the heads' certificates are checked against
    # the PKI by `egov audit verify`), in the run's scratch data folder.
    platform_pki_init(actor="bench")
    trust_setup(agencies=[], actor="bench")
    settings.AUDIT_SIGNER = "ledger"
    trust = head_trust_get()
    assert trust is not None
    anchors = trust.anchors()
    rows: list[dict] = []

    def row(measure: str, value: float, unit: str, **extra: object) -> None:
        rows.append({"database": label, "measure": measure, "value": value, "unit": unit, **extra})

    data = {
        "register": "population",
        "at": "2026-03-05T10:00:00+00:00",
        "client": "BY/GOV/MVD/backoffice",
        "member": "MVD",
        "service": "person",
        "data": "person",
        "purposes": [{"code": "check", "text": {"en": "Checking an application's facts"}}],
        "issue": "MVD-2026-000123",
        "user_id": "BY-STAFF-17",
        "message_id": "6f1c2a34-0d7e-4c55-9d43-1b2a3c4d5e6f",
        "request_id": "0b7e5c1d-9a3f-4e21-8c6d-2f4a1b3c5d7e",
    }
    sample = record("data.accessed", actor="bench", subject="4150592M012PB5", data=data)
    entry_bytes = bytes(sample.entry_bytes)
    rounds = 20_000 if quick else 200_000
    started = time.perf_counter()
    for _ in range(rounds):
        hashlib.sha256(b"\x00" + entry_bytes).digest()
    sha = _rate(rounds, time.perf_counter() - started)
    row("raw SHA-256 of one entry", sha, "/s", entry_bytes=len(entry_bytes))

    single = 500 if quick else 3000
    for on_commit in (True, False):
        settings.AUDIT_SEQUENCE_ON_COMMIT = on_commit
        started = time.perf_counter()
        for i in range(single):
            with transaction.atomic():
                record("data.accessed", actor="bench", subject=f"S{i}", data=data)
        if not on_commit:
            entries_sequence()
        seconds = time.perf_counter() - started
        where = "sequenced after commits" if on_commit else "sequenced once after"
        row(f"append, one per transaction, 1 thread ({where})", _rate(single, seconds), "/s")
    settings.AUDIT_SEQUENCE_ON_COMMIT = True

    if connection.vendor == "postgresql":
        # As the web and worker processes append: each in its own transaction, at once.
        each = 300 if quick else 1500

        def append() -> None:
            for i in range(each):
                with transaction.atomic():
                    record("data.accessed", actor="bench", subject=f"S{i}", data=data)
            connections.close_all()

        fork = multiprocessing.get_context("fork")
        for on_commit in (True, False):
            settings.AUDIT_SEQUENCE_ON_COMMIT = on_commit
            for processes in (4, 8):
                connections.close_all()
                children = [fork.Process(target=append) for _ in range(processes)]
                started = time.perf_counter()
                for child in children:
                    child.start()
                for child in children:
                    child.join()
                entries_sequence()
                seconds = time.perf_counter() - started
                assert all(child.exitcode == 0 for child in children)
                where = (
                    f"sequenced after commits (spacing {settings.AUDIT_SEQUENCE_SPACING_MS} ms)"
                    if on_commit
                    else "sequenced by the sweep"
                )
                row(
                    f"append, one per transaction, {processes} processes ({where})",
                    _rate(processes * each, seconds),
                    "/s",
                )
        settings.AUDIT_SEQUENCE_ON_COMMIT = True

    total = 100_000 if quick else 1_000_000
    batch = 1000
    settings.AUDIT_SEQUENCE_ON_COMMIT = False
    have = tree_size()
    appended = 0
    started = time.perf_counter()
    while have + appended < total:
        with transaction.atomic():
            record_many(
                "data.accessed",
                [(f"S{i}", data) for i in range(min(batch, total - have - appended))],
                actor="bench",
            )
        appended += min(batch, total - have - appended)
    inserted = time.perf_counter() - started
    started = time.perf_counter()
    entries_sequence()
    sequenced = time.perf_counter() - started
    row(f"append, batched by {batch} (insert only)", _rate(appended, inserted), "/s")
    row("sequencing into the tree", _rate(appended, sequenced), "/s")
    row(f"append, batched by {batch}, sequenced", _rate(appended, inserted + sequenced), "/s")

    tree_head_sign()
    size = tree_size()
    started = time.perf_counter()
    report = ledger_verify()
    seconds = time.perf_counter() - started
    assert report.ok, report.problems
    row("full verification", _rate(report.entries, seconds), "entries/s", entries=report.entries)

    ids = list(Entry.objects.order_by("?").values_list("id", flat=True)[:50])
    lengths = []
    started = time.perf_counter()
    for entry_id in ids:
        proof = entry_proof(Entry.objects.get(pk=entry_id))
        lengths.append(len(proof["audit_path"]))
    seconds = time.perf_counter() - started
    limit = math.ceil(math.log2(size))
    row(
        f"inclusion proof at {size:,} entries",
        seconds / len(ids) * 1000,
        "ms",
        hashes=max(lengths),
        ceil_log2_n=limit,
    )
    started = time.perf_counter()
    for _ in range(50):
        assert proof_verify(proof, anchors=anchors).ok
    row("proof check offline", (time.perf_counter() - started) / 50 * 1000, "ms")
    random.seed(1)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 entries, fewer rounds")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--worker", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(_worker(args.worker, args.quick)))
        return
    if args.skip_postgres:
        os.environ["BENCH_SKIP_POSTGRES"] = "1"
    from bench.trust import print_rows

    print_rows("audit ledger", run(quick=args.quick))


if __name__ == "__main__":
    main()
