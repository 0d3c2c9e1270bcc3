"""``egov restore`` against archives made by hand (egov.core.restore): what an archive may not
make a restore do. The whole round trip of a running instance is tests/deploy/test_backup.py.

The archives here are sealed with the passphrase, as only its holder can, unless a test says
otherwise: whatever they hold, a restore writes only what the sealed manifest lists, and
nothing at all when it stops.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import tarfile
from pathlib import Path
from typing import Any

import pytest

from egov.core import restore
from egov.core.backup import (
    FORMAT,
    MANIFEST,
    BackupError,
    cipher_derive,
    egov_version,
    manifest_seal,
    seal,
)

PASSPHRASE = "correct horse battery staple"
#: Cheap scrypt parameters: the archives of these tests need no real protection.
SCRYPT = {"n": 2**10, "r": 8, "p": 1}
SALT = b"s" * 16
DATABASE = b"SQLite format 3\x00 the backed-up database"


def _entry(name: str, data: bytes, kind: str, folder: str = "", path: str = "") -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    if folder:
        entry |= {"folder": folder, "path": path}
    return entry


class Built:
    """An archive's members (in the order written) and its manifest's entries."""

    def __init__(self, engine: str = "sqlite") -> None:
        self.engine = engine
        self.cipher = cipher_derive(PASSPHRASE, SALT, SCRYPT)
        self.members: list[tuple[str, bytes]] = []
        self.entries: list[dict[str, Any]] = []
        self.database(DATABASE)

    def database(self, data: bytes) -> None:
        name = "database/egov.pgdump" if self.engine == "postgresql" else "database/egov.sqlite3"
        self.members.append((name, data))
        self.entries.append(_entry(name, data, "database"))

    def file(self, folder: str, path: str, data: bytes, kind: str = "file") -> None:
        name = f"{folder}/{path}"
        self.members.append((name, data))
        self.entries.append(_entry(name, data, kind, folder, path))

    def secret(self, folder: str, path: str, clear: bytes) -> None:
        name = f"{folder}/{path}.enc"
        sealed = seal(self.cipher, clear, name)
        self.members.append((name, sealed))
        self.entries.append(_entry(name, sealed, "secret", folder, path))

    def manifest(self) -> dict[str, Any]:
        manifest = {
            "format": FORMAT,
            "egov_version": egov_version(),
            "created_at": "2026-05-01T03:00:00+00:00",
            "database": {"engine": self.engine, "migrations": {}},
            "folders": {},
            "encryption": {
                "kdf": "scrypt",
                **SCRYPT,
                "salt": base64.b64encode(SALT).decode("ascii"),
                "cipher": "AES-256-GCM",
            },
            "members": self.entries,
        }
        manifest_seal(manifest, self.cipher)
        return manifest

    def write(self, path: Path, extra: list[tuple[str, bytes]] | None = None) -> Path:
        """``extra`` members go first, before those the manifest lists."""
        body = json.dumps(self.manifest()).encode()
        with tarfile.open(path, "w:gz") as tar:
            for name, data in [*(extra or []), *self.members, (MANIFEST, body)]:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        return path


def test_a_second_member_of_the_same_name_is_refused(tmp_path: Path) -> None:
    """tar keeps both members of one name: the one a restore writes would not be the one
    whose checksum was verified."""
    built = Built()
    built.file("pki", "root.cert.pem", b"the genuine certificate\n")
    archive = built.write(
        tmp_path / "twice.tar.gz", extra=[("database/egov.sqlite3", b"another database")]
    )

    with pytest.raises(BackupError, match="damaged or not an egov backup"):
        restore.archive_read(archive)


def test_a_member_ending_in_enc_that_is_no_secret_restores(tmp_path: Path) -> None:
    """Only the members the manifest calls secrets are decrypted: a file of the instance
    whose own name ends in .enc is restored as it is."""
    built = Built()
    built.file("exchange", "GW-A/cache/globalconf.enc", b"a file that is not ours to decrypt")
    built.secret("pki", "root.key.pem", b"-----BEGIN PRIVATE KEY-----\n")
    archive = restore.archive_read(built.write(tmp_path / "enc.tar.gz"))

    clear = restore.archive_decrypt(archive, PASSPHRASE)

    assert clear == {"pki/root.key.pem.enc": b"-----BEGIN PRIVATE KEY-----\n"}


@pytest.mark.parametrize(
    "change",
    [
        lambda manifest: manifest["encryption"].update(n=3),  # scrypt refuses it
        lambda manifest: manifest["encryption"].update(n=2**40),  # terabytes, or hours
        lambda manifest: manifest["encryption"].pop("salt"),
        lambda manifest: manifest["encryption"].update(seal="not base64 at all!"),
        lambda manifest: manifest.update(encryption=None),
    ],
)
def test_a_manifest_encrypted_unlike_any_backup_is_damaged(tmp_path: Path, change: Any) -> None:
    built = Built()
    manifest = built.manifest()
    change(manifest)
    archive = restore.archive_read(built.write(tmp_path / "odd.tar.gz"))
    archive.manifest = manifest

    with pytest.raises(BackupError, match="damaged or not an egov backup"):
        restore.archive_decrypt(archive, PASSPHRASE)


@pytest.mark.parametrize(
    "members",
    [[{"kind": "database"}], [None], "members", [{"name": "database/egov.sqlite3"}] * 2],
)
def test_a_manifest_of_another_shape_is_damaged(tmp_path: Path, members: Any) -> None:
    built = Built()
    body = json.dumps({**built.manifest(), "members": members}).encode()
    path = tmp_path / "odd.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, data in [*built.members, (MANIFEST, body)]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

    with pytest.raises(BackupError, match="damaged or not an egov backup"):
        restore.archive_read(path)


# --- restoring into an instance ---------------------------------------------------------------
@pytest.fixture
def instance(tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """An empty instance's folders; its database (the suite's own) stands in for an empty one
    and restoring it is recorded, never done."""
    data = tmp_path / "instance"
    settings.DATA_DIR = data
    settings.MEDIA_ROOT = data / "media"
    settings.PKI_DIR = data / "pki"
    settings.EXCHANGE_DIR = data / "exchange"
    settings.EXCHANGE_CLIENT_TLS_DIR = data / "exchange" / "clients"
    settings.EXCHANGE_PROVIDER_KEYS_DIR = data / "exchange" / "provider-keys"
    restored: dict[str, Any] = {"data": data, "databases": []}

    def database_restore(engine: str, dump: Path) -> None:
        restored["databases"].append(dump.read_bytes())

    monkeypatch.setattr(restore, "database_engine", lambda: "sqlite")
    monkeypatch.setattr(restore, "_database_empty", lambda: True)
    monkeypatch.setattr(restore, "_database_restore", database_restore)
    return restored


def _files(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


def test_an_archive_changed_while_it_is_restored_writes_nothing(
    tmp_path: Path, instance: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The archive is read twice, to verify it and to restore it: what is restored is checked
    again as it is written, so an archive replaced in between restores nothing."""
    built = Built()
    built.file("pki", "root.cert.pem", b"the genuine certificate\n")
    archive = built.write(tmp_path / "egov.tar.gz")
    forged = Built()
    forged.database(b"another database")
    forged.file("pki", "root.cert.pem", b"another certificate\n")
    forged.members = forged.members[1:]  # the forged database replaces the genuine one
    forged.write(tmp_path / "forged.tar.gz")
    verified = restore.archive_read

    def read_then_replace(path: Path) -> restore.Archive:
        result = verified(path)
        os.replace(tmp_path / "forged.tar.gz", path)
        return result

    monkeypatch.setattr(restore, "archive_read", read_then_replace)

    with pytest.raises(BackupError, match="changed"):
        restore.backup_restore(archive_path=archive, passphrase=PASSPHRASE)

    assert instance["databases"] == []
    assert _files(instance["data"]) == []


def test_a_restore_that_fails_half_way_leaves_the_instance_as_it_was(
    tmp_path: Path, instance: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk that fills up while the files are written: the files written so far are
    removed and the database is not restored, so the restore can simply be run again."""
    built = Built()
    for number in range(5):
        built.file("media", f"attachments/{number}", b"an upload %d" % number)
    archive = built.write(tmp_path / "egov.tar.gz")
    write = restore._write_private
    written: list[Path] = []

    def write_until_full(path: Path, chunks: Any) -> None:
        if len(written) == 3:
            raise OSError(28, "No space left on device")
        write(path, chunks)
        written.append(path)

    monkeypatch.setattr(restore, "_write_private", write_until_full)

    with pytest.raises(OSError, match="No space left"):
        restore.backup_restore(archive_path=archive, passphrase=PASSPHRASE)

    assert len(written) == 3
    assert _files(instance["data"]) == []
    assert instance["databases"] == []
    monkeypatch.setattr(restore, "_write_private", write)
    restore.backup_restore(archive_path=archive, passphrase=PASSPHRASE)
    assert instance["databases"] == [DATABASE]
    assert len(_files(instance["data"] / "media")) == 5


def test_a_symbolic_link_in_an_instance_folder_is_not_empty(
    tmp_path: Path, instance: dict[str, Any]
) -> None:
    """A link in a folder the restore writes into would take its files elsewhere."""
    built = Built()
    built.file("pki", "issued/member.cert.pem", b"a certificate\n")
    archive = built.write(tmp_path / "egov.tar.gz")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (instance["data"] / "pki").mkdir(parents=True)
    (instance["data"] / "pki" / "issued").symlink_to(elsewhere)

    with pytest.raises(BackupError, match="is not empty"):
        restore.backup_restore(archive_path=archive, passphrase=PASSPHRASE)

    assert list(elsewhere.iterdir()) == []
    assert instance["databases"] == []


def test_restored_files_and_keys_are_private_and_the_database_is_the_verified_one(
    tmp_path: Path, instance: dict[str, Any]
) -> None:
    built = Built()
    built.file("pki", "root.cert.pem", b"a certificate\n")
    built.secret("pki", "root.key.pem", b"-----BEGIN PRIVATE KEY-----\n")
    archive = built.write(tmp_path / "egov.tar.gz")

    restore.backup_restore(archive_path=archive, passphrase=PASSPHRASE)

    assert instance["databases"] == [DATABASE]
    pki = instance["data"] / "pki"
    assert (pki / "root.key.pem").read_bytes() == b"-----BEGIN PRIVATE KEY-----\n"
    for path in (pki / "root.cert.pem", pki / "root.key.pem"):
        assert path.stat().st_mode & 0o777 == 0o600
    assert pki.stat().st_mode & 0o777 == 0o700
