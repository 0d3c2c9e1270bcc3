"""Build the database fixture of a past release for tests/core/test_upgrade.py.

    .venv/bin/python tests/data/releases/build.py 0.9.0 3e1a66e

runs the release's own code (``git archive`` of the commit, on this virtualenv's packages):
``migrate`` and ``seed --persons 200 --companies 20`` into a scratch SQLite data folder, then
writes ``tests/data/releases/<version>/rows.json.gz`` (every row, ``dumpdata``'s format with
plain primary keys) and ``migrations.json`` (the migrations applied at that release). Run once
per release and commit both files.
"""

from __future__ import annotations

import gzip
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent


def main(version: str, commit: str) -> None:
    with tempfile.TemporaryDirectory(prefix=f"egov-release-{version}-") as scratch:
        source = Path(scratch) / "source"
        data = Path(scratch) / "data"
        source.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", commit, "src"], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True)
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": scratch,
            "PYTHONPATH": str(source / "src"),
            "EGOV_DATA_DIR": str(data),
            "SECRET_KEY": "release-fixture-" + "k" * 40,
            "EGOV_INSECURE_HTTP": "true",
            "EGOV_DEMO": "true",
        }

        def egov(*arguments: str, **options: object) -> subprocess.CompletedProcess[bytes]:
            return subprocess.run(
                [sys.executable, "-m", "egov.cli", *arguments],
                env=environment,
                cwd=scratch,
                check=True,
                **options,  # type: ignore[arg-type]
            )

        located = egov("shell", "-c", "import egov; print(egov.__file__)", capture_output=True)
        assert located.stdout.decode().split()[-1].startswith(str(source)), "not the release's code"
        egov("migrate", "--verbosity", "0")
        egov("seed", "--persons", "200", "--companies", "20", "--verbosity", "0")
        dump = Path(scratch) / "rows.json"
        egov("dumpdata", "--output", str(dump), "--verbosity", "0")
        rows = json.loads(dump.read_text(encoding="utf-8"))
        with sqlite3.connect(data / "egov.sqlite3") as database:
            applied: dict[str, list[str]] = {}
            for app, name in database.execute(
                "SELECT app, name FROM django_migrations ORDER BY id"
            ):
                applied.setdefault(app, []).append(name)
    target = HERE / version
    target.mkdir(exist_ok=True)
    encoded = json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    with (
        open(target / "rows.json.gz", "wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=9) as handle,
    ):
        handle.write(encoded)
    (target / "migrations.json").write_text(
        json.dumps({"version": version, "commit": commit, "applied": applied}, indent=2) + "\n",
        encoding="utf-8",
    )
    print(f"{target}: {len(rows)} rows, {sum(map(len, applied.values()))} migrations")


if __name__ == "__main__":
    main(*sys.argv[1:3])
