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
