"""The data folder is private: a fresh one made the way `make demo` makes it has folders 0700
and files 0600, even when the shell's umask would make them readable by everybody."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from egov.core.secrets import private_directory, private_file, restrict_umask

ROOT = Path(__file__).resolve().parents[2]
#: Documents the PKI and the exchange publish on purpose (certificates, the CRL, a gateway's
#: configuration without secrets): still unreachable for others inside the 0700 folders.
PUBLIC_DOCUMENTS = (".cert.pem", ".chain.pem", "crl.pem", "index.json", "gateway.json")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def clean_environment(**extra: str) -> dict[str, str]:
    """The machine's environment without the test run's egov settings (and without the CI's
    PostgreSQL: the fresh data folder has its own embedded database)."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("EGOV_") and name not in ("DATABASE_URL", "SECRET_KEY")
    }
    return {**environment, **extra}


def egov(*args: str, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "egov.cli", *args],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=lambda: os.umask(0o022),  # what a shell usually has
    )


@pytest.fixture(scope="module")
def demo_data_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("fresh") / "var"
    done = egov(
        "demo",
        "--no-serve",
        environment=clean_environment(
            EGOV_DATA_DIR=str(data),
            EGOV_DEMO="true",
            EGOV_INSECURE_HTTP="true",
            EGOV_EMAIL_BACKEND="egov.demo.mailbox.EmailBackend",
        ),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return data


def test_a_fresh_demo_data_folder_and_its_parts_are_private(demo_data_folder):
    data = demo_data_folder
    assert mode(data) == 0o700
    assert mode(data / "egov.sqlite3") == 0o600
    assert mode(data / "secret_key") == 0o600
    for folder in ("media", "mail", "exchange", "pki"):
        assert mode(data / folder) == 0o700, folder
    uploads = [path for path in (data / "media").rglob("*") if path.is_file()]
    mail = list((data / "mail").glob("*.log"))
    keys = list((data / "pki").rglob("*.key.pem"))
    message_logs = list((data / "exchange").glob("*/messagelog"))
    assert uploads and mail and keys and message_logs
    assert {mode(path) for path in uploads + mail + keys} == {0o600}
    assert {mode(path) for path in message_logs} == {0o700}


def test_nothing_in_a_fresh_demo_data_folder_is_open_to_other_users(demo_data_folder):
    static = demo_data_folder / "static"
    opened = [
        f"{oct(mode(path))} {path.relative_to(demo_data_folder)}"
        for path in demo_data_folder.rglob("*")
        if static not in path.parents
        and path != static
        and mode(path) & 0o077
        and not (path.is_file() and path.name.endswith(PUBLIC_DOCUMENTS))
    ]
    assert opened == []


def test_collected_static_files_stay_readable_for_nginx(tmp_path):
    static_root = tmp_path / "static"
    done = egov(
        "collectstatic",
        "--noinput",
        environment=clean_environment(
            EGOV_DATA_DIR=str(tmp_path / "var"),
            EGOV_STATIC_ROOT=str(static_root),
            SECRET_KEY="collectstatic-" + "x" * 40,
            EGOV_BASE_URL="https://egov.example",
            EGOV_EXCHANGE_GATEWAY_URL="https://127.0.0.1:8090",
            EGOV_PKI_KEY_PASSPHRASE="test-pki-key-passphrase",
        ),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    files = [path for path in static_root.rglob("*") if path.is_file()]
    folders = [static_root, *(path for path in static_root.rglob("*") if path.is_dir())]
    assert any(path.name.endswith(".css.gz") for path in files)
    assert {mode(path) for path in files} == {0o644}
    assert {mode(path) for path in folders} == {0o755}


def test_private_folders_and_files_do_not_depend_on_the_umask(tmp_path):
    previous = os.umask(0)
    try:
        database = private_file(tmp_path / "new" / "data" / "egov.sqlite3")
    finally:
        os.umask(previous)

    assert mode(tmp_path / "new") == 0o700
    assert mode(tmp_path / "new" / "data") == 0o700
    assert mode(database) == 0o600
    assert database.read_bytes() == b""


def test_an_existing_folder_and_file_keep_their_mode_and_content(tmp_path):
    folder = tmp_path / "var"
    folder.mkdir(mode=0o750)
    os.chmod(folder, 0o750)  # noqa: S103  (an operator chose a group-readable folder)
    database = folder / "egov.sqlite3"
    database.write_bytes(b"SQLite format 3\x00")
    os.chmod(database, 0o640)

    private_file(database)
    private_directory(folder)

    assert (mode(folder), mode(database)) == (0o750, 0o640)
    assert database.read_bytes() == b"SQLite format 3\x00"


def test_restricting_the_umask_only_ever_tightens_it():
    previous = os.umask(0o027)
    try:
        restrict_umask()
        assert os.umask(0o277) == 0o077
        restrict_umask()
        assert os.umask(previous) == 0o277
    finally:
        os.umask(previous)
