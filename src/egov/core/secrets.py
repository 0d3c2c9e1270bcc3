"""A secret key kept in the data folder, so a demo survives restarts without configuration."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path


def load_or_create_secret_key(data_dir: Path, name: str = "secret_key") -> str:
    """Read the key, or create it atomically: parallel server workers all get the same one."""
    path = data_dir / name
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=data_dir)
        try:
            os.write(descriptor, secrets.token_urlsafe(50).encode())
            os.close(descriptor)
            os.link(temporary, path)  # fails if another process won the race; theirs is kept
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    return path.read_text().strip()
