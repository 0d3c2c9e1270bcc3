"""Trust services' benchmark: the audit ledger, PAdES signatures, the TSA and OCSP.

    python bench/trust.py [--quick] [--only ledger,pades,tsa,pki]

Each part measures its own figures beside the raw cost of the same cryptographic operation
with `cryptography` in the same run (bench/trust_ledger.py, trust_pades.py, trust_tsa.py,
trust_pki.py; each also runs alone). Targets are the issue's: ledger appends 3,000/s one per
transaction and 50,000/s batched on PostgreSQL, verification 100,000 entries/s, proofs of at
most ceil(log2 n) hashes at 1 million entries, PAdES with a timestamp 50/s per core,
validation 300/s, TSA and OCSP answers 1,000/s each.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PARTS = {
    "ledger": "bench.trust_ledger",
    "pades": "bench.trust_pades",
    "tsa": "bench.trust_tsa",
    "pki": "bench.trust_pki",
}


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if value >= 10 else f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_rows(title: str, rows: list[dict[str, object]]) -> None:
    print(f"\n== {title} ==")
    if not rows:
        print("(no figures)")
        return
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    widths = {
        column: max(len(column), *(len(_cell(row.get(column, ""))) for row in rows))
        for column in columns
    }
    print("  ".join(column.ljust(widths[column]) for column in columns))
    for row in rows:
        print("  ".join(_cell(row.get(column, "")).ljust(widths[column]) for column in columns))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs, for a first look")
    parser.add_argument("--only", default=",".join(PARTS), help="comma-separated parts")
    args = parser.parse_args()
    for part in [name.strip() for name in args.only.split(",") if name.strip()]:
        if part not in PARTS:
            parser.error(f"unknown part {part!r}; known: {', '.join(PARTS)}")
        module = importlib.import_module(PARTS[part])
        print_rows(part, module.run(quick=args.quick))


if __name__ == "__main__":
    main()
