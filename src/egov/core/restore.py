"""Restoring an archive of :mod:`egov.core.backup` into an empty instance (ADR 0009,
docs/backup-and-upgrades.md).

The whole archive is read before anything is written: every member against its SHA-256 in
the manifest (one member per name), the release (never newer than this code), the passphrase
(every encrypted member decrypted in memory), then the target (the same database engine, a
database without tables, folders without files or links). Only then are the files and the
decrypted keys written, all 0600 in 0700 folders, each checked against its SHA-256 again as
it is written (the archive is read a second time), and last the database (``pg_restore`` in
one transaction, or the SQLite file put in place); a restore that stops on the way removes
the files it wrote, so it can be run again. The absolute paths in each gateway's
``gateway.json`` are moved to this instance's folders, and an archive of an older release is
migrated.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

import structlog
from cryptography.exceptions import InvalidTag
from django.conf import settings
from django.db import connection

from egov.core.backup import (
    CHUNK,
    FORMAT,
    LARGEST_SECRET,
    MANIFEST,
    PASSPHRASE_VARIABLE,
    BackupError,
    database_engine,
    egov_version,
    instance_folders,
    manifest_cipher,
    manifest_digest,
    postgres_tool_run,
    program,
    release,
    unseal,
)
from egov.core.secrets import PRIVATE_DIRECTORY, PRIVATE_FILE, private_directory

logger = structlog.get_logger(__name__)

#: The largest scrypt costs a restore accepts (a backup uses 2**15, 8, 1): beyond them the
#: manifest, not sealed yet, could make a restore take minutes and gigabytes before it fails.
SCRYPT_LIMITS = {"n": 2**20, "r": 32, "p": 16}


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
                if info.name in digests or (info.name == MANIFEST and manifest is not None):
                    # tar keeps every member of a name: the one restored would not be the one
                    # whose checksum was verified.
                    raise BackupError(f"{info.name} is in the archive twice")
                if info.name == MANIFEST:
                    manifest = json.loads(handle.read().decode("utf-8"))
                    continue
                digest = hashlib.sha256()
                kept = info.name.endswith(".enc") and info.size <= LARGEST_SECRET
                chunks: list[bytes] = []
                while chunk := handle.read(CHUNK):
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
    if not isinstance(manifest, dict):
        raise _damaged(path, f"no {MANIFEST}")
    try:
        return _manifest_checked(path, manifest, digests, secrets)
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        # Not sealed yet (archive_decrypt checks the seal): any shape may come here.
        raise _damaged(path, f"{MANIFEST} is not as egov writes it") from error


def _manifest_checked(
    path: Path,
    manifest: dict[str, Any],
    digests: dict[str, tuple[str, int]],
    secrets: dict[str, bytes],
) -> Archive:
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is a backup of format {manifest.get('format')!r}, not {FORMAT}")
    members = list(manifest.get("members") or [])
    listed = {str(entry.get("name")) for entry in members}
    if missing := sorted(listed - set(digests)):
        raise _damaged(path, f"{missing[0]} is missing")
    if extra := sorted(set(digests) - listed):
        raise _damaged(path, f"{extra[0]} is not in the manifest")
    for entry in members:
        name = str(entry["name"])
        if digests[name] != (entry.get("sha256"), entry.get("size")):
            raise _damaged(path, f"{name} does not match its checksum")
        if entry.get("kind") == "secret" and name not in secrets:
            raise _damaged(path, f"{name} is too large for a key")
        if entry.get("folder"):
            _safe_relative(str(entry["path"]))
    if len(listed) != len(members):
        raise _damaged(path, "a member is listed twice")
    if not any(entry.get("kind") == "database" for entry in members):
        raise _damaged(path, "no database")
    # Only what the manifest calls a secret is decrypted: a file of the instance may have a
    # name ending in .enc too.
    kinds = {str(entry["name"]): entry.get("kind") for entry in members}
    secrets = {name: data for name, data in secrets.items() if kinds[name] == "secret"}
    return Archive(path=path, manifest=manifest, members=members, secrets=secrets)


def archive_decrypt(archive: Archive, passphrase: str) -> dict[str, bytes]:
    """Every encrypted member in clear (in memory), once the passphrase opens the manifest's
    seal and the seal covers this very manifest; a clear error otherwise."""
    if not passphrase:
        raise BackupError(
            f"{PASSPHRASE_VARIABLE} (or {PASSPHRASE_VARIABLE}_FILE) is not set: the keys in "
            "the backup are encrypted with the passphrase it was made with; nothing was "
            "restored"
        )
    try:
        encryption = archive.manifest["encryption"]
        costs = {key: int(encryption[key]) for key in ("n", "r", "p")}
        if not all(1 <= costs[key] <= limit for key, limit in SCRYPT_LIMITS.items()):
            raise ValueError(f"scrypt parameters {costs} beyond what a backup uses")
        cipher = manifest_cipher(archive.manifest, passphrase)
        seal = base64.b64decode(encryption["seal"])
    except (KeyError, TypeError, ValueError) as error:
        raise _damaged(archive.path, f"its encryption is not as egov writes it: {error}") from error
    try:
        sealed = unseal(cipher, seal, MANIFEST)
    except InvalidTag as error:
        raise BackupError(
            f"the backup passphrase ({PASSPHRASE_VARIABLE}) is not the one this backup was "
            "made with; nothing was restored"
        ) from error
    if sealed != manifest_digest(archive.manifest):
        raise BackupError(
            f"{archive.path} was changed after it was made (its manifest does not match its "
            "seal); nothing was restored"
        )
    try:
        return {name: unseal(cipher, data, name) for name, data in sorted(archive.secrets.items())}
    except InvalidTag as error:
        raise BackupError(
            f"{archive.path} was changed after it was made (an encrypted member does not "
            "decrypt); nothing was restored"
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
    """Whether a folder holds anything but empty folders. A symbolic link counts, to a
    folder too: the files restored into it would land wherever it points."""
    if path.is_symlink() or not path.is_dir():
        return path.exists() or path.is_symlink()
    for directory, folders, names in os.walk(path):
        if names or any(Path(directory, name).is_symlink() for name in folders):
            return True
    return False


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
    try:
        os.fchmod(descriptor, PRIVATE_FILE)
        with os.fdopen(descriptor, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        path.unlink(missing_ok=True)  # created above: ours to remove
        raise


def _chunks(handle: IO[bytes]) -> Iterator[bytes]:
    while chunk := handle.read(CHUNK):
        yield chunk


def _verified(archive: Path, entry: dict[str, Any], chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The member's bytes, checked against the manifest once the last has gone by: the archive
    is read a second time to restore it, and a file changed in between must not be restored."""
    digest = hashlib.sha256()
    size = 0
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
        yield chunk
    if (digest.hexdigest(), size) != (entry.get("sha256"), entry.get("size")):
        raise BackupError(
            f"{archive} changed while it was restored ({entry['name']} no longer matches its "
            "checksum); nothing was restored"
        )


def _database_restore(engine: str, dump: Path) -> None:
    """Put the verified database ``dump`` in place (the last step of a restore)."""
    if engine == "postgresql":
        connection.close()
        postgres_tool_run(
            [
                program("pg_restore"),
                # Every object belongs to the role the restore connects as (the database's
                # owner); the grants to the application's role are restored with them.
                "--no-owner",
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
    with open(dump, "rb") as handle:
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
    staging_root = targets["data"]
    private_directory(staging_root)
    written: list[Path] = []
    secret_key: tuple[Path, bytes] | None = None
    try:
        with (
            tempfile.TemporaryDirectory(dir=staging_root, prefix=".egov-restore-") as staging,
            tarfile.open(archive_path, mode="r:gz") as tar,
        ):
            dump: Path | None = None
            for info, handle in _members(tar):
                entry = entries.get(info.name)
                if entry is None:
                    if info.name == MANIFEST:
                        continue
                    raise BackupError(
                        f"{archive_path} changed while it was restored ({info.name} is not in "
                        "the manifest); nothing was restored"
                    )
                if entry["kind"] == "database":
                    # Kept aside, verified, until every file is written: the database last.
                    dump = Path(staging) / PurePosixPath(info.name).name
                    _write_private(dump, _verified(archive_path, entry, _chunks(handle)))
                    continue
                if not entry.get("folder"):
                    continue
                folder = str(entry["folder"])
                target = targets[folder] / _safe_relative(str(entry["path"]))
                chunks: Iterator[bytes]
                if entry["kind"] == "secret":
                    # Decrypted from the members verified before anything was written.
                    chunks = iter([clear[info.name]])
                    summary.secrets += 1
                elif target.name == "gateway.json":
                    # A gateway's own file names its keys, logs and cache by absolute path.
                    data = b"".join(_verified(archive_path, entry, _chunks(handle)))
                    relocated = _relocated(json.loads(data.decode("utf-8")), moves)
                    if relocated != json.loads(data.decode("utf-8")):
                        summary.rewritten.append(target)
                        data = json.dumps(relocated, indent=2, ensure_ascii=False).encode()
                        data += b"\n"
                    chunks = iter([data])
                else:
                    chunks = _verified(archive_path, entry, _chunks(handle))
                summary.files[folder] = summary.files.get(folder, 0) + 1
                if folder == "data":
                    # The demo's secret key replaces the one generated at start: once the
                    # database is in.
                    secret_key = (target, b"".join(chunks))
                    continue
                _write_private(target, chunks)
                written.append(target)
            if dump is None:
                raise BackupError(
                    f"{archive_path} changed while it was restored (its database is gone); "
                    "nothing was restored"
                )
            progress(f"database ({archive.engine})")
            # One transaction (pg_restore) or one rename (SQLite): all or nothing.
            _database_restore(archive.engine, dump)
    except BaseException:
        for path in reversed(written):
            path.unlink(missing_ok=True)
        raise
    if secret_key is not None:
        target, data = secret_key
        summary.secret_key_replaced = target.exists()
        target.unlink(missing_ok=True)
        _write_private(target, iter([data]))
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
