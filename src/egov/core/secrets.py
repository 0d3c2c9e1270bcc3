"""The data folder is private: the embedded database, uploaded files, message logs and keys
are for the platform's own user only (folders 0700, files 0600), whatever the umask of the
shell that started it.

Also: a secret key kept in the data folder, so a demo survives restarts without configuration.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

PRIVATE_DIRECTORY = 0o700
PRIVATE_FILE = 0o600
#: Masks group and other bits off everything a process creates.
PRIVATE_UMASK = 0o077


def restrict_umask() -> None:
    """Make every file and folder this process (and its children) creates private. Only ever
    tightens: a stricter umask already set stays."""
    os.umask(os.umask(PRIVATE_UMASK) | PRIVATE_UMASK)


def private_directory(path: Path) -> Path:
    """Create ``path`` (and missing parents) as 0700. A folder that already exists keeps the
    mode its operator gave it."""
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIRECTORY)
        except FileExistsError:
            continue
        os.chmod(folder, PRIVATE_DIRECTORY)  # mkdir's mode is reduced by the umask, never widened
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty as 0600 if it is missing (an empty file is a valid new SQLite
    database; SQLite gives its -wal and -shm files the database file's mode)."""
    private_directory(path.parent)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return path
    os.fchmod(descriptor, PRIVATE_FILE)
    os.close(descriptor)
    return path


def load_or_create_secret_key(data_dir: Path, name: str = "secret_key") -> str:
    """Read the key, or create it atomically: parallel server workers all get the same one."""
    path = data_dir / name
    if not path.exists():
        private_directory(data_dir)
        descriptor, temporary = tempfile.mkstemp(dir=data_dir)  # mode 0600
        try:
            os.write(descriptor, secrets.token_urlsafe(50).encode())
            os.close(descriptor)
            os.link(temporary, path)  # fails if another process won the race; theirs is kept
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    return path.read_text().strip()
