"""docs/deployment.md's PostgreSQL roles, with the SQL exactly as the page gives it: the owner
role migrates; the application's role reads and writes rows and creates the yearly sequences
of application numbers, but cannot drop or empty a table; the owner can dump everything, the
application's sequences included (backups run as the owner).

Runs in the suite's PostgreSQL pass (DATABASE_URL=postgres://…, a superuser that may create
roles, as .ci/run gives), with roles and a database of its own.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "deployment.md"
EGOV = Path(sys.executable).parent / "egov"
SUITE_DATABASE = os.environ.get("DATABASE_URL", "")

if not SUITE_DATABASE.startswith(("postgres://", "postgresql://")):
    pytest.skip(
        "runs in the suite's PostgreSQL pass (DATABASE_URL=postgres://…)", allow_module_level=True
    )


def page_sql() -> str:
    """The SQL of the page's `sudo -u postgres psql … <<'SQL'` block."""
    match = re.search(
        r"^sudo -u postgres psql [^\n]*<<'SQL'\n(.*?)\nSQL\n", PAGE.read_text(), re.S | re.M
    )
    assert match, "docs/deployment.md has no psql block"
    return match.group(1)


@dataclass
class Roles:
    owner_url: str
    app_url: str
    database: str
    app: str


def server_url(database: str, user: str = "", password: str = "") -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(SUITE_DATABASE)
    host = parts.hostname or "127.0.0.1"
    port = f":{parts.port}" if parts.port else ""
    login = f"{user}:{password}@" if user else (f"{parts.username}@" if parts.username else "")
    return urlunsplit((parts.scheme, f"{login}{host}{port}", f"/{database}", "", ""))


@pytest.fixture(scope="module")
def roles() -> Iterator[Roles]:
    import psycopg

    suffix = secrets.token_hex(4)
    owner, app = f"egov_owner_{suffix}", f"egov_{suffix}"
    passwords = {
        "owner_password": secrets.token_urlsafe(16),
        "app_password": secrets.token_urlsafe(16),
    }
    # The page's names, made unique: the database and the application's role are both `egov`.
    sql = re.sub(r"\begov_owner\b", owner, page_sql())
    sql = re.sub(r"\begov\b", app, sql)
    assert shutil.which("psql"), "psql (postgresql-client) runs the page's SQL as the page does"
    result = subprocess.run(
        [
            "psql",
            server_url("postgres"),
            "-v",
            "ON_ERROR_STOP=1",
            *[
                argument
                for name, value in passwords.items()
                for argument in ("-v", f"{name}={value}")
            ],
        ],
        input=sql,
        capture_output=True,
        text=True,
        timeout=60,
    )
    try:
        assert result.returncode == 0, result.stderr
        yield Roles(
            owner_url=server_url(app, owner, passwords["owner_password"]),
            app_url=server_url(app, app, passwords["app_password"]),
            database=app,
            app=app,
        )
    finally:
        with psycopg.connect(server_url("postgres"), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{app}" WITH (FORCE)')
            connection.execute(f'DROP ROLE IF EXISTS "{owner}"')
            connection.execute(f'DROP ROLE IF EXISTS "{app}"')


def egov(url: str, tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("EGOV_", "DJANGO_")) and name != "DATABASE_URL"
    }
    environment.update(
        EGOV_DEMO="true",
        SECRET_KEY="roles-" + "x" * 50,
        EGOV_DATA_DIR=str(tmp_path / "data"),
        DATABASE_URL=url,
    )
    return subprocess.run(
        [str(EGOV), *arguments], capture_output=True, text=True, timeout=300, env=environment
    )


NUMBER = (
    "from egov.cases.numbers import number_next; print(number_next(agency_code='MIA', year={year}))"
)
STATEMENT = "from django.db import connection; connection.cursor().execute({sql!r})"


def test_the_owner_migrates_and_the_application_works_with_rows_only(
    roles: Roles, tmp_path: Path
) -> None:
    migrated = egov(roles.owner_url, tmp_path, "migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr[-3000:]

    # The application's role: rows, and the year's sequence of application numbers.
    first = egov(roles.app_url, tmp_path, "shell", "-c", NUMBER.format(year=2031))
    assert first.returncode == 0, first.stderr[-3000:]
    assert first.stdout.split()[-1] == "MIA-2031-000001"
    again = egov(roles.app_url, tmp_path, "shell", "-c", NUMBER.format(year=2031))
    assert again.stdout.split()[-1] == "MIA-2031-000002", again.stderr[-3000:]
    rows = egov(
        roles.app_url,
        tmp_path,
        "shell",
        "-c",
        "from egov.catalog.models import Agency; "
        "Agency.objects.create(code='MIA', name='Ministry', short_name='MIA'); "
        "print(Agency.objects.count())",
    )
    assert rows.returncode == 0, rows.stderr[-3000:]

    # ... but not the schema.
    for sql in (
        "DROP TABLE catalog_agency",
        "TRUNCATE django_session",
        "ALTER TABLE catalog_agency ADD COLUMN x int",
    ):
        refused = egov(roles.app_url, tmp_path, "shell", "-c", STATEMENT.format(sql=sql))
        assert refused.returncode != 0, sql
        assert re.search(r"must be owner|permission denied", refused.stderr), refused.stderr[-2000:]

    # The owner reads everything for pg_dump, the application's own sequences included.
    assert shutil.which("pg_dump")
    dump = subprocess.run(
        ["pg_dump", "--format=custom", f"--file={tmp_path / 'egov.pgdump'}", roles.owner_url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dump.returncode == 0, dump.stderr
