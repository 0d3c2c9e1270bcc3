"""Backups of an instance: one archive, restored into an empty instance (ADR 0009,
docs/backup-and-upgrades.md).

The archive is a gzip-compressed tar file, created 0600, holding

- ``database/egov.pgdump`` (``pg_dump --format=custom``) or ``database/egov.sqlite3`` (SQLite's
  online backup, consistent while the platform writes);
- the instance's folders, each under its own name: ``media/`` (uploaded files), ``pki/``,
  ``exchange/`` (gateway files, cached global configurations, message logs),
  ``exchange-clients/`` and ``provider-keys/`` (when they are not inside the exchange folder),
  and ``data/secret_key`` (the demo's generated key);
- ``manifest.json``, the last member: egov's version, when, the database engine, the
  migrations applied per app and the SHA-256 of every other member.

Private keys and credentials (PEM private keys, ``*.key`` files, the provider keys, the
secret key) are stored encrypted (``<name>.enc``): AES-256-GCM under a key derived from the
backup passphrase with scrypt, the member's name bound as associated data. Nothing is ever
written in clear: without a passphrase the backup refuses.

Message logs are appended to while a gateway runs: each is copied up to its last complete
line, a prefix of the chain that verifies on its own (``egov gateway verify-log``).

A restore reads the whole archive and checks every checksum and the passphrase before it
writes anything, and writes only into an empty database and empty folders.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import IO, Any, BinaryIO

import structlog
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from django.conf import settings
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from egov.core.secrets import PRIVATE_DIRECTORY, PRIVATE_FILE, private_directory

logger = structlog.get_logger(__name__)

FORMAT = 1
MANIFEST = "manifest.json"
PASSPHRASE_VARIABLE = "EGOV_BACKUP_PASSPHRASE"  # noqa: S105 - the variable's name
#: scrypt's cost: about 0.1 s and 32 MiB per derivation, once per backup or restore.
SCRYPT_PARAMETERS = {"n": 2**15, "r": 8, "p": 1}
#: Files of the key folders up to this size are read whole and checked for a private key;
#: larger ones (no key is that large) are streamed.
SMALL_FILE = 1024 * 1024
#: An encrypted member is a key or a credential: anything larger is not one of ours.
LARGEST_SECRET = 16 * 1024 * 1024
_CHECK = b"egov backup passphrase check"
_CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or a restore that cannot go on; the message says what to do."""


# --- what an instance holds ------------------------------------------------------------------
@dataclass(frozen=True)
class Folder:
    """One of the instance's folders, archived under its name."""

    name: str
    path: Path
    #: Every file in it is a credential (the provider keys).
    secret: bool = False
    #: Uploaded files: streamed, never searched for keys.
    uploads: bool = False


def instance_folders() -> list[Folder]:
    """The instance's folders as this process's settings name them. A folder configured
    inside another keeps its own name: its files belong to the innermost folder."""
    candidates = [
        Folder("media", Path(settings.MEDIA_ROOT).resolve(), uploads=True),
        Folder("pki", Path(settings.PKI_DIR).resolve()),
        Folder("exchange", Path(settings.EXCHANGE_DIR).resolve()),
        Folder("exchange-clients", Path(settings.EXCHANGE_CLIENT_TLS_DIR).resolve()),
        Folder("provider-keys", Path(settings.EXCHANGE_PROVIDER_KEYS_DIR).resolve(), secret=True),
    ]
    folders: list[Folder] = []
    for folder in candidates:
        if all(folder.path != other.path for other in folders):
            folders.append(folder)
    return folders


def secret_key_file() -> Path:
    """The demo's generated secret key (egov.core.secrets.load_or_create_secret_key)."""
    return Path(settings.DATA_DIR) / "secret_key"


def egov_version() -> str:
    return metadata.version("egov")


def release(version: str) -> tuple[int, ...]:
    """``0.10.0`` → ``(0, 10, 0)``: releases compare by their numbers."""
    match = re.match(r"\d+(\.\d+)*", version)
    if match is None:
        raise BackupError(f"{version!r} is not a release number")
    return tuple(int(part) for part in match.group(0).split("."))


def database_engine() -> str:
    vendor = connection.vendor
    if vendor not in {"postgresql", "sqlite"}:
        raise BackupError(f"backups support PostgreSQL and SQLite, not {vendor}")
    return vendor


def _migrations_applied() -> dict[str, list[str]]:
    applied: dict[str, list[str]] = {}
    for app, name in sorted(MigrationRecorder(connection).applied_migrations()):
        applied.setdefault(app, []).append(name)
    return applied


def _postgres_environment() -> dict[str, str]:
    """libpq's variables for the configured database: the password never on a command line."""
    database = settings.DATABASES["default"]
    environment = dict(os.environ)
    for variable, value in (
        ("PGDATABASE", database.get("NAME")),
        ("PGUSER", database.get("USER")),
        ("PGPASSWORD", database.get("PASSWORD")),
        ("PGHOST", database.get("HOST")),
        ("PGPORT", database.get("PORT")),
    ):
        if value:
            environment[variable] = str(value)
    for option, value in dict(database.get("OPTIONS") or {}).items():
        if option in {"sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout"}:
            environment[f"PG{option.upper()}"] = str(value)
    return environment


def _program(name: str) -> str:
    path = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else "")
    if not path:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return path


def _run(arguments: list[str]) -> None:
    result = subprocess.run(  # noqa: S603 - fixed programs, arguments built here
        arguments, env=_postgres_environment(), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BackupError(
            f"{Path(arguments[0]).name} failed (exit {result.returncode}): "
            f"{result.stderr.strip() or result.stdout.strip()}"
        )


# --- encryption --------------------------------------------------------------------------------
def _derive(passphrase: str, salt: bytes, parameters: dict[str, int]) -> AESGCM:
    kdf = Scrypt(salt=salt, length=32, n=parameters["n"], r=parameters["r"], p=parameters["p"])
    return AESGCM(kdf.derive(passphrase.encode("utf-8")))


def _seal(cipher: AESGCM, data: bytes, name: str) -> bytes:
    nonce = os.urandom(12)
    return nonce + cipher.encrypt(nonce, data, name.encode("utf-8"))


def _open(cipher: AESGCM, data: bytes, name: str) -> bytes:
    return cipher.decrypt(data[:12], data[12:], name.encode("utf-8"))


def looks_secret(folder: Folder, relative: PurePosixPath, content: bytes | None) -> bool:
    """Private keys and credentials: the provider keys, ``*.key`` and ``*.key.pem`` files and
    any file holding a PEM private key."""
    if folder.secret or relative.name.endswith((".key", ".key.pem")):
        return True
    return content is not None and b"PRIVATE KEY-----" in content


# --- writing the archive -----------------------------------------------------------------------
@dataclass
class Member:
    name: str
    kind: str  # database | file | secret | message-log
    size: int
    sha256: str
    folder: str = ""
    path: str = ""

    @property
    def encrypted(self) -> bool:
        return self.kind == "secret"

    def as_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "size": self.size,
            "sha256": self.sha256,
        }
        if self.folder:
            entry |= {"folder": self.folder, "path": self.path}
        return entry


@dataclass
class BackupSummary:
    path: Path
    engine: str
    version: str
    members: list[Member] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    archive_size: int = 0

    def lines(self) -> list[str]:
        """What the archive holds, for the operator."""
        database = next(member for member in self.members if member.kind == "database")
        lines = [
            f"egov {self.version} backup: {self.path} ({_size(self.archive_size)}, mode 0600)",
            f"  database ({self.engine}): {_size(database.size)}",
        ]
        folders: dict[str, list[Member]] = {}
        for member in self.members:
            if member.folder:
                folders.setdefault(member.folder, []).append(member)
        for name, members in folders.items():
            secrets = sum(member.encrypted for member in members)
            logs = sum(member.kind == "message-log" for member in members)
            details = [f"{len(members)} files", _size(sum(member.size for member in members))]
            if secrets:
                details.append(f"{secrets} keys and credentials encrypted")
            if logs:
                details.append(f"{logs} message logs")
            lines.append(f"  {name}/: " + ", ".join(details))
        lines.extend(f"  skipped (not a regular file): {path}" for path in self.skipped)
        return lines


def _size(count: int) -> str:
    value = float(count)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} bytes"


class _Hashing(io.RawIOBase):
    """Reads at most ``limit`` bytes of a file and hashes what it hands out."""

    def __init__(self, handle: BinaryIO, limit: int) -> None:
        self._handle = handle
        self._left = limit
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size < 0 or size > self._left:
            size = self._left
        data = self._handle.read(size)
        self._left -= len(data)
        self.digest.update(data)
        return data


def _whole_lines(handle: BinaryIO) -> int:
    """How many bytes of an append-only log end with its last complete line: the writer may
    be half-way through the next one."""
    end = os.fstat(handle.fileno()).st_size
    position = end
    while position > 0:
        start = max(0, position - 64 * 1024)
        handle.seek(start)
        chunk = handle.read(position - start)
        newline = chunk.rfind(b"\n")
        if newline >= 0:
            handle.seek(0)
            return start + newline + 1
        position = start
    handle.seek(0)
    return 0


class _Writer:
    def __init__(self, archive: tarfile.TarFile, cipher: AESGCM) -> None:
        self.archive = archive
        self.cipher = cipher
        self.members: list[Member] = []

    def _info(self, name: str, size: int, mtime: float) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.size = size
        info.mode = PRIVATE_FILE
        info.mtime = int(mtime)
        return info

    def add_bytes(self, name: str, data: bytes, *, mtime: float, **fields: Any) -> Member:
        self.archive.addfile(self._info(name, len(data), mtime), io.BytesIO(data))
        member = Member(name, size=len(data), sha256=hashlib.sha256(data).hexdigest(), **fields)
        self.members.append(member)
        return member

    def add_stream(
        self, name: str, handle: BinaryIO, size: int, *, mtime: float, **fields: Any
    ) -> Member:
        reader = _Hashing(handle, size)
        try:
            self.archive.addfile(self._info(name, size, mtime), reader)
        except OSError as error:
            raise BackupError(f"{handle.name} changed while it was copied: {error}") from error
        member = Member(name, size=size, sha256=reader.digest.hexdigest(), **fields)
        self.members.append(member)
        return member

    def add_file(self, folder: Folder, path: Path, relative: PurePosixPath) -> Member:
        name = f"{folder.name}/{relative}"
        fields = {"folder": folder.name, "path": str(relative)}
        with open(path, "rb") as handle:
            status = os.fstat(handle.fileno())
            if path.suffix == ".jsonl" and not folder.uploads:
                # A gateway's message log, appended to while we read: its complete lines.
                size = _whole_lines(handle)
                return self.add_stream(
                    name, handle, size, mtime=status.st_mtime, kind="message-log", **fields
                )
            if folder.uploads or status.st_size > SMALL_FILE:
                if looks_secret(folder, relative, None):
                    content = handle.read()
                else:
                    return self.add_stream(
                        name, handle, status.st_size, mtime=status.st_mtime, kind="file", **fields
                    )
            else:
                content = handle.read()
        if looks_secret(folder, relative, content):
            sealed = _seal(self.cipher, content, f"{name}.enc")
            return self.add_bytes(
                f"{name}.enc", sealed, mtime=status.st_mtime, kind="secret", **fields
            )
        return self.add_bytes(name, content, mtime=status.st_mtime, kind="file", **fields)


def _folder_files(
    folder: Folder, others: list[Folder], skipped: list[str]
) -> Iterator[tuple[Path, PurePosixPath]]:
    """Regular files of a folder, without those of another instance folder inside it."""
    if not folder.path.is_dir():
        return
    inner = {other.path for other in others if other.path != folder.path}
    for directory, subdirectories, files in os.walk(folder.path):
        current = Path(directory)
        subdirectories[:] = sorted(name for name in subdirectories if current / name not in inner)
        for name in sorted(files):
            path = current / name
            if path.is_symlink() or not path.is_file():
                skipped.append(str(path))
                continue
            yield path, PurePosixPath(path.relative_to(folder.path).as_posix())


def _database_dump(staging: Path, engine: str) -> tuple[Path, str]:
    if engine == "postgresql":
        target = staging / "egov.pgdump"
        _run([_program("pg_dump"), "--format=custom", "--no-password", f"--file={target}"])
        return target, "database/egov.pgdump"
    source = Path(settings.DATABASES["default"]["NAME"])
    target = staging / "egov.sqlite3"
    # The online backup API copies a consistent snapshot while other processes write.
    with sqlite3.connect(source, timeout=30) as reading, sqlite3.connect(target) as writing:
        reading.backup(writing)
    reading.close()
    writing.close()
    return target, "database/egov.sqlite3"


def backup_create(
    *, output: Path, passphrase: str, progress: Callable[[str], None] = lambda _: None
) -> BackupSummary:
    """Write the archive of this instance to ``output`` (a new file, 0600)."""
    if not passphrase:
        raise BackupError(
            f"{PASSPHRASE_VARIABLE} (or {PASSPHRASE_VARIABLE}_FILE) is not set: a backup holds "
            "the private keys and credentials of the instance, which are written only "
            "encrypted with that passphrase. Set it and run the backup again."
        )
    output = output.resolve()
    if output.exists():
        raise BackupError(f"{output} already exists: choose a new file name")
    if not output.parent.is_dir():
        raise BackupError(f"{output.parent} is not a folder")
    engine = database_engine()
    version = egov_version()
    salt = os.urandom(16)
    cipher = _derive(passphrase, salt, SCRYPT_PARAMETERS)
    summary = BackupSummary(path=output, engine=engine, version=version)
    migrations = _migrations_applied()
    folders = instance_folders()
    descriptor, partial = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.")
    os.fchmod(descriptor, PRIVATE_FILE)
    try:
        with (
            tempfile.TemporaryDirectory(dir=output.parent, prefix=".egov-backup-") as staging,
            os.fdopen(descriptor, "wb") as raw,
            tarfile.open(fileobj=raw, mode="w:gz", format=tarfile.PAX_FORMAT) as archive,
        ):
            writer = _Writer(archive, cipher)
            progress(f"database ({engine})")
            dump, name = _database_dump(Path(staging), engine)
            with open(dump, "rb") as handle:
                writer.add_stream(
                    name, handle, dump.stat().st_size, mtime=dump.stat().st_mtime, kind="database"
                )
            os.unlink(dump)
            for folder in folders:
                progress(f"{folder.name}: {folder.path}")
                for path, relative in _folder_files(folder, folders, summary.skipped):
                    writer.add_file(folder, path, relative)
            key_file = secret_key_file()
            if key_file.is_file():
                data = Folder("data", key_file.parent, secret=True)
                writer.add_file(data, key_file, PurePosixPath(key_file.name))
            summary.members = writer.members
            manifest = {
                "format": FORMAT,
                "egov_version": version,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "database": {"engine": engine, "migrations": migrations},
                "folders": {folder.name: str(folder.path) for folder in folders}
                | {"data": str(Path(settings.DATA_DIR).resolve())},
                "encryption": {
                    "kdf": "scrypt",
                    **SCRYPT_PARAMETERS,
                    "salt": base64.b64encode(salt).decode("ascii"),
                    "cipher": "AES-256-GCM",
                    "check": base64.b64encode(_seal(cipher, _CHECK, MANIFEST)).decode("ascii"),
                },
                "members": [member.as_json() for member in writer.members],
            }
            body = json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8")
            archive.addfile(
                writer._info(MANIFEST, len(body), datetime.now(UTC).timestamp()), io.BytesIO(body)
            )
        os.link(partial, output)  # never replaces a file that appeared meanwhile
    except FileExistsError as error:
        raise BackupError(f"{output} already exists: choose a new file name") from error
    finally:
        os.unlink(partial)
    summary.archive_size = output.stat().st_size
    logger.info(
        "backup_created",
        engine=engine,
        members=len(summary.members),
        encrypted=sum(member.encrypted for member in summary.members),
        size=summary.archive_size,
    )
    return summary


# --- reading the archive -----------------------------------------------------------------------
@dataclass
class Archive:
    """An archive whose every member matched its checksum."""

    path: Path
    manifest: dict[str, Any]
    members: list[dict[str, Any]]
    secrets: dict[str, bytes]

    @property
    def version(self) -> str:
        return str(self.manifest["egov_version"])

    @property
    def engine(self) -> str:
        return str(self.manifest["database"]["engine"])


def _damaged(path: Path, detail: str) -> BackupError:
    return BackupError(f"{path} is damaged or not an egov backup ({detail}); nothing was restored")


def _members(archive: tarfile.TarFile) -> Iterator[tuple[tarfile.TarInfo, IO[bytes]]]:
    for info in archive:
        if not info.isfile():
            raise BackupError(f"unexpected archive entry {info.name!r}")
        handle = archive.extractfile(info)
        if handle is None:
            raise BackupError(f"unreadable archive entry {info.name!r}")
        yield info, handle


def _safe_relative(text: str) -> PurePosixPath:
    relative = PurePosixPath(text)
    if relative.is_absolute() or not relative.parts or ".." in relative.parts:
        raise BackupError(f"unsafe path {text!r} in the manifest")
    return relative


def archive_read(path: Path) -> Archive:
    """Read the whole archive once: every member's SHA-256 against the manifest; the
    encrypted members are kept (small) for their decryption."""
    if not path.is_file():
        raise BackupError(f"{path} does not exist")
    digests: dict[str, tuple[str, int]] = {}
    secrets: dict[str, bytes] = {}
    manifest: dict[str, Any] | None = None
    try:
        with tarfile.open(path, mode="r:gz") as archive:
            for info, handle in _members(archive):
                if info.name == MANIFEST:
                    manifest = json.loads(handle.read().decode("utf-8"))
                    continue
                digest = hashlib.sha256()
                kept = info.name.endswith(".enc") and info.size <= LARGEST_SECRET
                chunks: list[bytes] = []
                while chunk := handle.read(_CHUNK):
                    digest.update(chunk)
                    if kept:
                        chunks.append(chunk)
                digests[info.name] = (digest.hexdigest(), info.size)
                if kept:
                    secrets[info.name] = b"".join(chunks)
    except (tarfile.TarError, EOFError, zlib.error, OSError, ValueError) as error:
        raise _damaged(path, str(error) or type(error).__name__) from error
    except BackupError as error:
        raise _damaged(path, str(error)) from error
    if manifest is None:
        raise _damaged(path, f"no {MANIFEST}")
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is a backup of format {manifest.get('format')!r}, not {FORMAT}")
    members = list(manifest.get("members") or [])
    listed = {str(entry.get("name")) for entry in members}
    for missing in sorted(listed - set(digests)):
        raise _damaged(path, f"{missing} is missing")
    for extra in sorted(set(digests) - listed):
        raise _damaged(path, f"{extra} is not in the manifest")
    for entry in members:
        name = str(entry["name"])
        if digests[name] != (entry.get("sha256"), entry.get("size")):
            raise _damaged(path, f"{name} does not match its checksum")
        if entry.get("kind") == "secret" and name not in secrets:
            raise _damaged(path, f"{name} is too large for a key")
        if entry.get("folder"):
            _safe_relative(str(entry["path"]))
    if not any(entry.get("kind") == "database" for entry in members):
        raise _damaged(path, "no database")
    return Archive(path=path, manifest=manifest, members=members, secrets=secrets)


def archive_decrypt(archive: Archive, passphrase: str) -> dict[str, bytes]:
    """Every encrypted member in clear (in memory), or a clear error for a wrong passphrase."""
    encryption = archive.manifest["encryption"]
    if not passphrase:
        raise BackupError(
            f"{PASSPHRASE_VARIABLE} (or {PASSPHRASE_VARIABLE}_FILE) is not set: the keys in "
            "the backup are encrypted with the passphrase it was made with; nothing was "
            "restored"
        )
    cipher = _derive(
        passphrase,
        base64.b64decode(encryption["salt"]),
        {key: int(encryption[key]) for key in ("n", "r", "p")},
    )
    try:
        if _open(cipher, base64.b64decode(encryption["check"]), MANIFEST) != _CHECK:
            raise InvalidTag
        return {name: _open(cipher, data, name) for name, data in sorted(archive.secrets.items())}
    except InvalidTag as error:
        raise BackupError(
            f"the backup passphrase ({PASSPHRASE_VARIABLE}) is not the one this backup was "
            "made with; nothing was restored"
        ) from error


# --- restoring ---------------------------------------------------------------------------------
@dataclass
class RestoreSummary:
    archive: Path
    version: str
    engine: str
    created_at: str
    files: dict[str, int] = field(default_factory=dict)
    secrets: int = 0
    rewritten: list[Path] = field(default_factory=list)
    secret_key_replaced: bool = False
    migrated: bool = False

    def lines(self) -> list[str]:
        lines = [
            f"restored {self.archive}: egov {self.version}, made {self.created_at}",
            f"  database ({self.engine})",
        ]
        lines.extend(f"  {name}/: {count} files" for name, count in self.files.items())
        lines.append(f"  {self.secrets} keys and credentials decrypted (files 0600, folders 0700)")
        lines.extend(
            f"  paths in {path} now point to this instance's folders" for path in self.rewritten
        )
        if self.secret_key_replaced:
            lines.append("  the data folder's generated secret key was replaced by the backup's")
        if self.migrated:
            lines.append(f"  migrated from egov {self.version} to {egov_version()}")
        return lines


def _target_folders() -> dict[str, Path]:
    targets = {folder.name: folder.path for folder in instance_folders()}
    targets["data"] = Path(settings.DATA_DIR).resolve()
    return targets


def _has_files(path: Path) -> bool:
    if not path.is_dir():
        return path.exists()
    return any(
        not Path(directory, name).is_dir()
        for directory, _, names in os.walk(path)
        for name in names
    )


def _database_empty() -> bool:
    with connection.cursor() as cursor:
        return not connection.introspection.table_names(cursor)


def _check_target(archive: Archive, targets: dict[str, Path]) -> None:
    engine = database_engine()
    if archive.engine != engine:
        raise BackupError(
            f"the backup holds a {archive.engine} database and this instance is configured for "
            f"{engine}: restore it into the same kind of database (DATABASE_URL); nothing was "
            "restored"
        )
    if not _database_empty():
        raise BackupError(
            "the configured database is not empty: a restore goes into a new, empty database "
            "(create one and point DATABASE_URL at it); nothing was restored"
        )
    for name in sorted({str(entry["folder"]) for entry in archive.members if entry.get("folder")}):
        if name == "data":
            continue  # the demo's secret key, generated when this process started
        target = targets.get(name)
        if target is None:
            raise BackupError(f"this instance has no {name} folder; nothing was restored")
        if _has_files(target):
            raise BackupError(
                f"{target} is not empty: a restore goes into an empty data folder (the {name} "
                "folder); nothing was restored"
            )


def _write_private(path: Path, chunks: Iterator[bytes]) -> None:
    private_directory(path.parent)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    os.fchmod(descriptor, PRIVATE_FILE)
    with os.fdopen(descriptor, "wb") as handle:
        for chunk in chunks:
            handle.write(chunk)
        handle.flush()
        os.fsync(handle.fileno())


def _chunks(handle: IO[bytes]) -> Iterator[bytes]:
    while chunk := handle.read(_CHUNK):
        yield chunk


def _database_restore(engine: str, handle: IO[bytes], staging: Path) -> None:
    if engine == "postgresql":
        dump = staging / "egov.pgdump"
        _write_private(dump, _chunks(handle))
        connection.close()
        _run(
            [
                _program("pg_restore"),
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                "--no-password",
                f"--dbname={settings.DATABASES['default']['NAME']}",
                str(dump),
            ]
        )
        return
    target = Path(settings.DATABASES["default"]["NAME"])
    copy = target.with_name(f".{target.name}.restoring")
    copy.unlink(missing_ok=True)
    _write_private(copy, _chunks(handle))
    connection.close()
    for leftover in (
        target.with_name(f"{target.name}-wal"),
        target.with_name(f"{target.name}-shm"),
    ):
        leftover.unlink(missing_ok=True)  # of the empty database checked above
    os.replace(copy, target)
    os.chmod(target, PRIVATE_FILE)


def _relocated(value: Any, moves: list[tuple[str, str]]) -> Any:
    """Absolute paths under a folder of the backed-up instance, moved to this instance's."""
    if isinstance(value, str):
        for old, new in moves:
            if value == old or value.startswith(old + "/"):
                return new + value[len(old) :]
        return value
    if isinstance(value, list):
        return [_relocated(item, moves) for item in value]
    if isinstance(value, dict):
        return {key: _relocated(item, moves) for key, item in value.items()}
    return value


def backup_restore(
    *, archive_path: Path, passphrase: str, progress: Callable[[str], None] = lambda _: None
) -> RestoreSummary:
    """Restore an archive into this instance's (empty) database and folders."""
    progress(f"verifying {archive_path}")
    archive = archive_read(archive_path)
    running = egov_version()
    if release(archive.version) > release(running):
        raise BackupError(
            f"the backup is of egov {archive.version}, newer than this egov ({running}): "
            f"install egov {archive.version} or later to restore it; nothing was restored"
        )
    clear = archive_decrypt(archive, passphrase)
    targets = _target_folders()
    _check_target(archive, targets)
    summary = RestoreSummary(
        archive=archive_path,
        version=archive.version,
        engine=archive.engine,
        created_at=str(archive.manifest.get("created_at", "")),
    )
    sources = dict(archive.manifest.get("folders") or {})
    moves = sorted(
        ((str(sources[name]), str(targets[name])) for name in sources if name in targets),
        key=lambda move: -len(move[0]),
    )
    entries = {str(entry["name"]): entry for entry in archive.members}
    database_members = {name for name, entry in entries.items() if entry["kind"] == "database"}
    staging_root = targets["data"]
    private_directory(staging_root)
    with (
        tempfile.TemporaryDirectory(dir=staging_root, prefix=".egov-restore-") as staging,
        tarfile.open(archive_path, mode="r:gz") as tar,
    ):
        # The database first: a failing pg_restore (one transaction) leaves everything as it was.
        for info, handle in _members(tar):
            if info.name in database_members:
                progress(f"database ({archive.engine})")
                _database_restore(archive.engine, handle, Path(staging))
                break
    with tarfile.open(archive_path, mode="r:gz") as tar:
        for info, handle in _members(tar):
            entry = entries.get(info.name)
            if entry is None or not entry.get("folder"):
                continue
            folder = str(entry["folder"])
            target = targets[folder] / _safe_relative(str(entry["path"]))
            chunks: Iterator[bytes]
            if entry["kind"] == "secret":
                chunks = iter([clear[info.name]])
                summary.secrets += 1
            elif target.name == "gateway.json":
                # A gateway's own file names its keys, logs and cache by absolute path.
                data = handle.read()
                relocated = _relocated(json.loads(data.decode("utf-8")), moves)
                if relocated != json.loads(data.decode("utf-8")):
                    summary.rewritten.append(target)
                    data = json.dumps(relocated, indent=2, ensure_ascii=False).encode() + b"\n"
                chunks = iter([data])
            else:
                chunks = _chunks(handle)
            if folder == "data":
                summary.secret_key_replaced = target.exists()
                target.unlink(missing_ok=True)
            _write_private(target, chunks)
            summary.files[folder] = summary.files.get(folder, 0) + 1
    for target in targets.values():
        if target.is_dir():
            os.chmod(target, PRIVATE_DIRECTORY)
    if release(archive.version) < release(running):
        from django.core.management import call_command

        progress(f"migrating from egov {archive.version} to {running}")
        call_command("migrate", interactive=False, verbosity=0)
        summary.migrated = True
    logger.info(
        "backup_restored",
        engine=archive.engine,
        version=archive.version,
        files=sum(summary.files.values()),
        secrets=summary.secrets,
        migrated=summary.migrated,
    )
    return summary
