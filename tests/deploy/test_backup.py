"""``egov backup`` of a running instance and ``egov restore`` elsewhere (ADR 0009,
docs/backup-and-upgrades.md).

The source is a real instance in its own data folder and database (PostgreSQL when the suite
runs on it, else SQLite): migrated and seeded with the demo's applications, served by
``egov serve``, its database written by another process and its message logs by two real
gateways (tests/exchange/harness.py, signed by the instance's own CA) while the backup runs.
The archive is restored into a new data folder and a new database; the restored platform
verifies its message logs with ``egov gateway verify-log``, answers the same applications
through its API with the same tokens, and its keys decrypt and match their certificates.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from egov.core.backup import manifest_cipher, manifest_seal
from egov.trust.pki import load_private_key
from tests.exchange.harness import Stack
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
EGOV = [sys.executable, "-m", "egov.cli"]
PASSPHRASE = "correct horse battery staple"
PERSON_PATH = "/r1/BY/GOV/MVD/population/person/4150592M012PB5"
PERSON_HEADERS = {"X-Road-UserId": "BY4150592M012PB5", "X-Egov-Purpose": "prefill"}
#: Set per instance below; the suite's own values must not leak into an instance.
FOREIGN = (
    "DATABASE_URL",
    "SECRET_KEY",
    "EGOV_PKI_DIR",
    "EGOV_EXCHANGE_DIR",
    "EGOV_EXCHANGE_CLIENT_TLS_DIR",
    "EGOV_EXCHANGE_PROVIDER_KEYS_DIR",
    "EGOV_STATIC_ROOT",
    "EGOV_BACKUP_PASSPHRASE",
    "EGOV_BACKUP_PASSPHRASE_FILE",
)
#: What a failed restore may leave in a data folder: the empty database file and the demo's
#: secret key, both created by the process at its start.
#: Transactions the writer commits before the backup starts.
WRITTEN_BEFORE = 20
STARTUP_FILES = {"egov.sqlite3", "egov.sqlite3-wal", "egov.sqlite3-shm", "secret_key"}

#: One process for the setup: migrate, seed the demo country, and API tokens to read it with.
SETUP = """
import json
from django.core.management import call_command
from egov.identity.api_auth import api_token_issue
from egov.identity.models import User
call_command("migrate", verbosity=0)
call_command("seed", persons=200, companies=20, verbosity=0)
citizen = User.objects.get(email="citizen@demo.egov.example")
clerk = User.objects.get(email="clerk.mvd@demo.egov.example")
print(json.dumps({
    "citizen": api_token_issue(user=citizen, name="backup test", assurance="substantial"),
    "clerk": api_token_issue(user=clerk, name="backup test", assurance="substantial"),
}))
"""
#: Writes while the backup runs: each transaction an account and its representation.
WRITER = """
import itertools, pathlib
from django.db import transaction
from egov.identity.models import Representation, User
stop = pathlib.Path({stop!r})
for number in itertools.count(1):
    with transaction.atomic():
        user = User.objects.create_user(f"writer-{{number}}@backup.test", None, kind="business")
        Representation.objects.create(
            user=user, unp=f"{{number:09d}}", organisation_name="Writer", basis="director"
        )
    if number == {before}:
        print("writing", flush=True)
    if stop.exists():
        break
print(number, flush=True)
"""
STATE = """
import json
from django.db.models import Count
from egov.cases.models import Application
from egov.identity.models import Representation, User
states = Application.objects.values("state").annotate(n=Count("pk"))
writers = User.objects.filter(email__startswith="writer-")
print(json.dumps({
    "states": {row["state"]: row["n"] for row in states},
    "numbers": sorted(Application.objects.values_list("number", flat=True)),
    "writer_users": writers.count(),
    "writer_representations": Representation.objects.filter(user__in=writers).count(),
}))
"""


# --- databases ----------------------------------------------------------------------------------
def _postgres_server() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url.rsplit("/", 1)[0] if url.startswith(("postgres://", "postgresql://")) else None


class Databases:
    """New databases of the suite's engine: PostgreSQL databases (dropped at the end) or
    nothing for SQLite (the file in each data folder)."""

    def __init__(self) -> None:
        self.server = _postgres_server()
        self.created: list[str] = []

    def new(self, label: str) -> str:
        if self.server is None:
            return ""
        import psycopg

        name = f"egov_backup_{label}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(f"{self.server}/postgres", autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return f"{self.server}/{name}"

    def drop_all(self) -> None:
        if self.server is None:
            return
        import psycopg

        with psycopg.connect(f"{self.server}/postgres", autocommit=True) as admin:
            for name in self.created:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Instance:
    data: Path
    database_url: str
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.env = {key: value for key, value in os.environ.items() if key not in FOREIGN}
        self.env |= {
            "EGOV_DATA_DIR": str(self.data),
            "EGOV_DEMO": "true",
            "EGOV_BACKUP_PASSPHRASE": PASSPHRASE,
        }
        if self.database_url:
            self.env["DATABASE_URL"] = self.database_url

    def egov(
        self, *arguments: str, check: bool = True, **variables: str
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*EGOV, *arguments],
            env={**self.env, **variables},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        if check:
            assert result.returncode == 0, (arguments, result.stdout, result.stderr[-3000:])
        return result

    def shell(self, code: str) -> Any:
        output = self.egov("shell", "--verbosity", "0", "-c", code).stdout
        return json.loads(output.strip().splitlines()[-1])

    def popen(self, *arguments: str, **options: Any) -> subprocess.Popen[str]:
        return subprocess.Popen([*EGOV, *arguments], env=self.env, cwd=ROOT, text=True, **options)

    def tables(self) -> list[str]:
        """The tables of the instance's database (none: empty)."""
        if self.database_url:
            import psycopg

            with psycopg.connect(self.database_url) as database:
                rows = database.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
                ).fetchall()
            return sorted(row[0] for row in rows)
        import sqlite3

        path = self.data / "egov.sqlite3"
        if not path.exists():
            return []
        with sqlite3.connect(path) as database:
            rows = database.execute("SELECT name FROM sqlite_master").fetchall()
        return sorted(row[0] for row in rows)

    def files(self) -> list[str]:
        """Every file of the data folder but what a process creates at its start."""
        return sorted(
            str(path.relative_to(self.data))
            for path in self.data.rglob("*")
            if path.is_file() and not (path.parent == self.data and path.name in STARTUP_FILES)
        )


class Served:
    """``egov serve`` of an instance on a free port."""

    def __init__(self, instance: Instance) -> None:
        self.port = free_port()
        self.process = instance.popen(
            "serve",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            "1",
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api(self, path: str, token: str) -> Any:
        """An API answer, with this server's own address taken out of its links."""
        request = urllib.request.Request(
            f"{self.url}/api/v1/{path}",
            headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read().decode().replace(self.url, "https://egov.example"))

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


@dataclass
class Source:
    instance: Instance
    archive: Path
    backup_output: str
    tokens: dict[str, str]
    answers: dict[str, Any]
    state: dict[str, Any]
    writer_before: int
    writer_after: int
    calls_before: int
    partial_log: Path
    partial_log_whole: bytes
    provider_keys: dict[str, bytes]
    secret_key: bytes


API_PATHS = {"citizen": "me/applications/?limit=200", "clerk": "agency/cases/?limit=200"}


@pytest.fixture(scope="module")
def databases() -> Iterator[Databases]:
    created = Databases()
    yield created
    created.drop_all()


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory, databases: Databases) -> Iterator[Source]:
    """A running instance, backed up while it serves, writes and exchanges messages."""
    folder = tmp_path_factory.mktemp("backup-source")
    data = folder / "data"
    # The gateways of the harness and the instance share one CA: their message logs verify
    # against the instance's PKI.
    stack = Stack(data / "exchange" / "harness")
    shutil.copytree(stack.pki, data / "pki")
    instance = Instance(data, databases.new("source"))
    tokens = instance.shell(SETUP)

    served = Served(instance)
    stack.start()
    stop_file = folder / "stop-writing"
    writer = instance.popen(
        "shell",
        "--verbosity",
        "0",
        "-c",
        WRITER.format(stop=str(stop_file), before=WRITTEN_BEFORE),
        stdout=subprocess.PIPE,
    )
    traffic_stop = threading.Event()
    calls = {"count": 0, "failed": 0}

    def traffic() -> None:
        while not traffic_stop.is_set():
            if stack.call(PERSON_PATH, headers=PERSON_HEADERS).status == 200:
                calls["count"] += 1
            else:
                calls["failed"] += 1

    try:
        answers = {who: served.api(path, tokens[who]) for who, path in API_PATHS.items()}
        for _ in range(5):
            assert stack.call(PERSON_PATH, headers=PERSON_HEADERS).status == 200
        # A copy of a sealed log with a record half-written at its end, as a gateway's
        # buffered write can leave it at any moment.
        stack.gateways["GW-A"].log.seal()
        live = stack.gateways["GW-A"].log.path
        partial = data / "exchange" / "harness" / "copied" / live.name
        partial.parent.mkdir(parents=True)
        whole = live.read_bytes()
        partial.write_bytes(whole + b'{"seq":999,"at":"2026-')
        thread = threading.Thread(target=traffic, daemon=True)
        thread.start()
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "writing"
        calls_before = 5 + calls["count"]
        archive = folder / "egov-backup.tar.gz"
        backup = instance.egov("backup", "--output", str(archive))
        stop_file.touch()
        writer_after = int(writer.communicate(timeout=30)[0].strip().splitlines()[-1])
        traffic_stop.set()
        thread.join(timeout=30)
    finally:
        stop_file.touch()
        traffic_stop.set()
        if writer.poll() is None:
            writer.kill()
        stack.stop()
        served.stop()
    assert calls["count"] > 0
    assert calls["failed"] == 0
    yield Source(
        instance=instance,
        archive=archive,
        backup_output=backup.stdout,
        tokens=tokens,
        answers=answers,
        state=instance.shell(STATE),
        writer_before=WRITTEN_BEFORE,
        writer_after=writer_after,
        calls_before=calls_before,
        partial_log=partial,
        partial_log_whole=whole,
        provider_keys={
            path.name: path.read_bytes() for path in (data / "exchange" / "provider-keys").iterdir()
        },
        secret_key=(data / "secret_key").read_bytes(),
    )


@pytest.fixture
def target(tmp_path: Path, databases: Databases) -> Instance:
    """Another host: a new data folder and a new, empty database."""
    return Instance(tmp_path / "restored", databases.new("target"))


def _members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive, "r:gz") as tar:
        return {
            info.name: tar.extractfile(info).read()  # type: ignore[union-attr]
            for info in tar.getmembers()
        }


def _repack(archive: Path, output: Path, change: Any) -> Path:
    """The archive with its members changed by ``change(members)``, compressed again."""
    members = _members(archive)
    change(members)
    with tarfile.open(output, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return output


def _manifest_changed(members: dict[str, bytes], change: Any, *, reseal: bool = True) -> None:
    """The manifest changed by ``change(manifest)``, sealed again with the passphrase (as
    only its holder can) unless ``reseal`` is false."""
    manifest = json.loads(members["manifest.json"])
    change(manifest)
    if reseal:
        manifest_seal(manifest, manifest_cipher(manifest, PASSPHRASE))
    members["manifest.json"] = json.dumps(manifest).encode()


def _private_keys_match(folder: Path) -> int:
    """Every ``*.key.pem`` decrypts (with the PKI's passphrase) to the key of the certificate
    beside it; 0600."""
    matched = 0
    for key_path in sorted(folder.rglob("*.key.pem")):
        certificate_path = key_path.with_name(key_path.name.replace(".key.pem", ".cert.pem"))
        assert key_path.stat().st_mode & 0o777 == 0o600, key_path
        key = load_private_key(key_path)
        certificate = x509.load_pem_x509_certificate(certificate_path.read_bytes())
        assert key.public_key() == certificate.public_key(), key_path
        matched += 1
    return matched


# --- the whole round trip -----------------------------------------------------------------------
def test_a_running_instance_restored_elsewhere_verifies_its_logs_and_serves_the_same_applications(
    source: Source, target: Instance
) -> None:
    archive = source.archive
    assert archive.stat().st_mode & 0o777 == 0o600
    assert "keys and credentials encrypted" in source.backup_output
    members = _members(archive)
    manifest = json.loads(members["manifest.json"])
    assert manifest["database"]["engine"] == ("postgresql" if target.database_url else "sqlite")
    assert manifest["database"]["migrations"]["cases"][0] == "0001_initial"
    # No key or credential in clear anywhere in the archive.
    clear = b"".join(members.values())
    assert b"PRIVATE KEY-----" not in clear
    for secret in (*source.provider_keys.values(), source.secret_key):
        assert secret.strip() not in clear

    restored = target.egov("restore", str(archive))

    assert "keys and credentials decrypted" in restored.stdout
    # The message logs of both gateways verify against the restored PKI, every message of
    # the calls made before the backup started in them.
    logs = target.data / "exchange" / "harness"
    ca = target.data / "pki" / "issuing.cert.pem"
    for code in ("GW-A", "GW-B"):
        verified = target.egov(
            "gateway", "verify-log", str(logs / code / "messagelog"), "--ca", str(ca)
        )
        assert verified.stdout.startswith("OK "), verified.stdout
        (log_file,) = (logs / code / "messagelog").glob("*.jsonl")
        records = [json.loads(line) for line in log_file.read_text().splitlines()]
        requests = [row for row in records if row["kind"] == "request"]
        assert len(requests) >= source.calls_before
    # The half-written record stayed out; the whole lines before it are there, and verify.
    copied = target.data / "exchange" / "harness" / "copied" / source.partial_log.name
    assert copied.read_bytes() == source.partial_log_whole
    assert target.egov("gateway", "verify-log", str(copied), "--ca", str(ca)).returncode == 0

    # The database is a snapshot taken while the writer wrote: whole transactions only.
    state = target.shell(STATE)
    assert state["states"] == source.state["states"]
    assert state["numbers"] == source.state["numbers"]
    assert source.writer_before <= state["writer_users"] <= source.writer_after
    assert state["writer_representations"] == state["writer_users"]

    # Keys decrypt and match their certificates; credentials are the source's, 0600 in 0700.
    assert _private_keys_match(target.data / "pki") >= 10
    assert _private_keys_match(target.data / "exchange" / "clients") >= 2
    restored_keys = target.data / "exchange" / "provider-keys"
    assert {path.name: path.read_bytes() for path in restored_keys.iterdir()} == (
        source.provider_keys
    )
    assert (target.data / "secret_key").read_bytes() == source.secret_key
    for path in target.data.rglob("*"):
        assert path.stat().st_mode & 0o777 == (0o700 if path.is_dir() else 0o600), path
    # A gateway's file points at the restored instance's keys and logs.
    gateway = json.loads((target.data / "exchange" / "GW-PORTAL" / "gateway.json").read_text())
    assert gateway["log_dir"] == str(target.data / "exchange" / "GW-PORTAL" / "messagelog")
    assert Path(gateway["tls_key"]).is_relative_to(target.data / "pki")

    # The restored platform serves the same applications to the same tokens.
    served = Served(target)
    try:
        for who, path in API_PATHS.items():
            assert served.api(path, source.tokens[who]) == source.answers[who]
    finally:
        served.stop()
    assert source.answers["citizen"]["results"], "the demo citizen has applications"
    assert source.answers["clerk"]["results"], "the demo clerk has cases"


# --- refusals -----------------------------------------------------------------------------------
def _refused(target: Instance, archive: Path, **variables: str) -> str:
    result = target.egov("restore", str(archive), check=False, **variables)
    assert result.returncode != 0, result.stdout
    assert target.tables() == []
    assert target.files() == []
    return result.stderr


def test_a_backup_without_a_passphrase_is_refused_and_writes_nothing(
    source: Source, tmp_path: Path
) -> None:
    output = tmp_path / "unencrypted.tar.gz"

    result = source.instance.egov(
        "backup", "--output", str(output), check=False, EGOV_BACKUP_PASSPHRASE=""
    )

    assert result.returncode != 0
    assert "EGOV_BACKUP_PASSPHRASE" in result.stderr
    assert "encrypted" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_wrong_passphrase_restores_nothing(source: Source, target: Instance) -> None:
    error = _refused(target, source.archive, EGOV_BACKUP_PASSPHRASE="not the passphrase")

    assert "passphrase" in error
    assert "nothing was restored" in error


def test_a_damaged_archive_restores_nothing(
    source: Source, target: Instance, tmp_path: Path
) -> None:
    data = bytearray(source.archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged = tmp_path / "damaged.tar.gz"
    damaged.write_bytes(bytes(data))

    error = _refused(target, damaged)

    assert "damaged or not an egov backup" in error


def test_an_archive_whose_member_changed_restores_nothing(
    source: Source, target: Instance, tmp_path: Path
) -> None:
    def change(members: dict[str, bytes]) -> None:
        name = next(name for name in members if name.startswith("pki/") and "cert" in name)
        members[name] = members[name].replace(b"MII", b"MIJ", 1)

    changed = _repack(source.archive, tmp_path / "changed.tar.gz", change)

    error = _refused(target, changed)

    assert "does not match its checksum" in error


def test_a_non_empty_database_is_refused(source: Source, target: Instance) -> None:
    if target.database_url:
        import psycopg

        with psycopg.connect(target.database_url) as database:
            database.execute("CREATE TABLE kept (id integer)")
    else:
        import sqlite3

        target.data.mkdir(parents=True)
        with sqlite3.connect(target.data / "egov.sqlite3") as database:
            database.execute("CREATE TABLE kept (id integer)")

    result = target.egov("restore", str(source.archive), check=False)

    assert result.returncode != 0
    assert "database is not empty" in result.stderr
    assert target.tables() == ["kept"]
    assert target.files() == []


def test_a_non_empty_data_folder_is_refused(source: Source, target: Instance) -> None:
    kept = target.data / "pki" / "root.cert.pem"
    kept.parent.mkdir(parents=True)
    kept.write_text("an operator's file\n")

    result = target.egov("restore", str(source.archive), check=False)

    assert result.returncode != 0
    assert f"{kept.parent} is not empty" in result.stderr
    assert target.tables() == []
    assert target.files() == ["pki/root.cert.pem"]
    assert kept.read_text() == "an operator's file\n"


def test_an_archive_changed_and_checksummed_again_is_refused(
    source: Source, target: Instance, tmp_path: Path
) -> None:
    """Whoever changes a member and its checksum in the manifest cannot seal the manifest
    again without the passphrase."""

    def change(members: dict[str, bytes]) -> None:
        name = next(name for name in members if name.startswith("media/"))
        members[name] = b"another file"

        def checksum(manifest: dict[str, Any]) -> None:
            entry = next(entry for entry in manifest["members"] if entry["name"] == name)
            entry["sha256"] = hashlib.sha256(b"another file").hexdigest()
            entry["size"] = len(b"another file")

        _manifest_changed(members, checksum, reseal=False)

    error = _refused(target, _repack(source.archive, tmp_path / "forged.tar.gz", change))

    assert "was changed after it was made" in error


def test_an_archive_of_a_newer_release_is_refused(
    source: Source, target: Instance, tmp_path: Path
) -> None:
    def newer(members: dict[str, bytes]) -> None:
        _manifest_changed(members, lambda manifest: manifest.update(egov_version="99.0.0"))

    error = _refused(target, _repack(source.archive, tmp_path / "newer.tar.gz", newer))

    assert "egov 99.0.0, newer than this egov" in error


def test_an_archive_of_an_older_release_is_migrated(
    source: Source, target: Instance, tmp_path: Path
) -> None:
    def older(members: dict[str, bytes]) -> None:
        _manifest_changed(members, lambda manifest: manifest.update(egov_version="0.9.0"))

    result = target.egov("restore", str(_repack(source.archive, tmp_path / "old.tar.gz", older)))

    assert "migrated from egov 0.9.0" in result.stdout
    assert target.shell(STATE)["numbers"] == source.state["numbers"]


def test_the_archive_is_a_gzip_tar_with_the_manifest_listing_every_member(
    source: Source,
) -> None:
    with gzip.open(source.archive) as handle:
        assert handle.read(1)  # gzip
    members = _members(source.archive)
    manifest = json.loads(members.pop("manifest.json"))

    assert sorted(entry["name"] for entry in manifest["members"]) == sorted(members)
    assert {entry["kind"] for entry in manifest["members"]} == {
        "database",
        "file",
        "secret",
        "message-log",
    }
    assert manifest["encryption"]["kdf"] == "scrypt"
    assert all(
        entry["name"].endswith(".enc") for entry in manifest["members"] if entry["kind"] == "secret"
    )
