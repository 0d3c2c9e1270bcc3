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

:mod:`egov.core.restore` reads an archive back into an empty instance.
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

import structlog
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from django.conf import settings
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from egov.core.secrets import PRIVATE_FILE

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
CHUNK = 1024 * 1024


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


def program(name: str) -> str:
    path = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else "")
    if not path:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return path


def postgres_tool_run(arguments: list[str]) -> None:
    result = subprocess.run(  # noqa: S603 - fixed programs, arguments built here
        arguments, env=_postgres_environment(), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BackupError(
            f"{Path(arguments[0]).name} failed (exit {result.returncode}): "
            f"{result.stderr.strip() or result.stdout.strip()}"
        )


# --- encryption --------------------------------------------------------------------------------
def cipher_derive(passphrase: str, salt: bytes, parameters: dict[str, int]) -> AESGCM:
    kdf = Scrypt(salt=salt, length=32, n=parameters["n"], r=parameters["r"], p=parameters["p"])
    return AESGCM(kdf.derive(passphrase.encode("utf-8")))


def seal(cipher: AESGCM, data: bytes, name: str) -> bytes:
    nonce = os.urandom(12)
    return nonce + cipher.encrypt(nonce, data, name.encode("utf-8"))


def unseal(cipher: AESGCM, data: bytes, name: str) -> bytes:
    return cipher.decrypt(data[:12], data[12:], name.encode("utf-8"))


def manifest_digest(manifest: dict[str, Any]) -> bytes:
    """SHA-256 of the manifest without its seal: what the seal authenticates."""
    body = json.loads(json.dumps(manifest))
    body.get("encryption", {}).pop("seal", None)
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).digest()


def manifest_seal(manifest: dict[str, Any], cipher: AESGCM) -> None:
    """Seal the manifest (its checksums included) under the passphrase: a restore knows the
    passphrase is right and that nothing in the archive was changed and re-checksummed."""
    sealed = seal(cipher, manifest_digest(manifest), MANIFEST)
    manifest["encryption"]["seal"] = base64.b64encode(sealed).decode("ascii")


def manifest_cipher(manifest: dict[str, Any], passphrase: str) -> AESGCM:
    """The cipher of an archive, from its manifest's salt and scrypt parameters."""
    encryption = manifest["encryption"]
    return cipher_derive(
        passphrase,
        base64.b64decode(encryption["salt"]),
        {key: int(encryption[key]) for key in ("n", "r", "p")},
    )


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
        lines.extend(f"  skipped: {path}" for path in self.skipped)
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
            sealed = seal(self.cipher, content, f"{name}.enc")
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
                skipped.append(f"{path} (not a regular file)")
                continue
            yield path, PurePosixPath(path.relative_to(folder.path).as_posix())


def _database_dump(staging: Path, engine: str) -> tuple[Path, str]:
    if engine == "postgresql":
        target = staging / "egov.pgdump"
        postgres_tool_run(
            [program("pg_dump"), "--format=custom", "--no-password", f"--file={target}"]
        )
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
    cipher = cipher_derive(passphrase, salt, SCRYPT_PARAMETERS)
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
                    try:
                        writer.add_file(folder, path, relative)
                    except FileNotFoundError:  # a draft's file removed while we walked
                        summary.skipped.append(f"{path} (removed while the backup ran)")
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
                },
                "members": [member.as_json() for member in writer.members],
            }
            manifest_seal(manifest, cipher)
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
