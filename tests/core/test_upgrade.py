"""Upgrading: the previous release's database, with data in it, migrated to this release.

The fixture (tests/data/releases/0.9.0/, built by tests/data/releases/build.py with release
0.9.0's own code) holds every row of a seeded 0.9.0 instance and the migrations applied at
0.9.0. A new database of the engine the suite runs on is migrated to exactly those
migrations, given the rows through the historical models of that state, migrated to head by
``migrate``, and then read and written by the current code. A migration that drops or
garbles data, depends on a migration that is gone, or leaves rows the current models cannot
use fails here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from egov.demo.accounts import DEMO_ACCOUNTS
from tests.data.releases.migrate_release import release_migrations, release_rows

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "data" / "releases" / "migrate_release.py"
PREVIOUS = "0.9.0"


def _postgres_server() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url.rsplit("/", 1)[0] if url.startswith(("postgres://", "postgresql://")) else None


@pytest.fixture
def scratch_database(tmp_path: Path) -> Iterator[str]:
    """A database of its own, of the engine the suite runs on (not the seeded test one)."""
    server = _postgres_server()
    if server is None:
        yield f"sqlite:///{tmp_path / 'upgrade.sqlite3'}"
        return
    import psycopg

    name = f"egov_upgrade_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _upgrade(database_url: str, data_dir: Path) -> dict[str, Any]:
    environment = {**os.environ, "DATABASE_URL": database_url, "EGOV_DATA_DIR": str(data_dir)}
    result = subprocess.run(
        [sys.executable, str(SCRIPT), PREVIOUS],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def _rows(model: str) -> list[dict[str, Any]]:
    return [row for row in release_rows(PREVIOUS) if row["model"] == model]


def test_a_database_of_the_previous_release_migrates_with_its_data_intact(
    scratch_database: str, tmp_path: Path
) -> None:
    report = _upgrade(scratch_database, tmp_path / "data")

    # Exactly the release's migrations before the rows went in; none missing after.
    applied = release_migrations(PREVIOUS)
    assert report["state_applied"] == sorted(
        f"{app}.{name}" for app, names in applied.items() for name in names
    )
    assert report["unapplied"] == []
    expected_counts: dict[str, int] = defaultdict(int)
    for row in release_rows(PREVIOUS):
        expected_counts[row["model"]] += 1
    assert report["loaded"] == dict(expected_counts)

    users = {row["pk"]: row["fields"] for row in _rows("identity.user")}
    assert report["users"] == [users[pk]["email"] for pk in sorted(users)]
    # The release's password hashes still sign every demo account it had in.
    released = {fields["email"] for fields in users.values()}
    in_release = sorted(a.email for a in DEMO_ACCOUNTS if a.email in released)
    assert len(in_release) >= 5
    assert report["password_ok"] == in_release

    applications = _rows("cases.application")
    assert len(applications) == 80
    assert report["applications"] == {
        row["fields"]["number"]: row["fields"]["state"] for row in applications
    }
    by_applicant: dict[str, list[str]] = defaultdict(list)
    by_agency: dict[int, list[str]] = defaultdict(list)
    for row in applications:
        by_applicant[users[row["fields"]["applicant"]]["email"]].append(row["fields"]["number"])
        by_agency[row["fields"]["agency"]].append(row["fields"]["number"])
    assert report["by_applicant"] == {
        email: sorted(numbers) for email, numbers in by_applicant.items()
    }
    officials = {
        fields["email"]: sorted(by_agency.get(fields["agency"], []))
        for fields in users.values()
        if fields["kind"] == "official"
    }
    assert report["cases_by_official"] == officials
    assert any(officials.values())

    # Written by the current code: a note on a case, a new account after the release's rows.
    assert report["case_opened"] == report["note"]["application"]
    assert report["note"]["application"] in report["applications"]
    assert report["newcomer_pk"] > max(users)

    persons = _rows("registry_population.person")
    assert len(persons) >= 200
    assert report["persons"] == sorted(row["fields"]["personal_number"] for row in persons)
    assert report["members"] == sorted(
        row["fields"]["member_code"] for row in _rows("exchange_central.member")
    )
