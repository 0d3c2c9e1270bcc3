"""The demo's mailbox: emails the platform sent, read back from the file backend's folder,
so a trainee can open a verification link without a mail server."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.utils import timezone

MAX_MESSAGES = 30


@dataclass(frozen=True)
class DemoMessage:
    sent_at: datetime
    to: str
    subject: str
    body: str


def _parse(path: Path) -> list[DemoMessage]:
    """One file holds every message of one connection, separated by a line of dashes."""
    sent_at = datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.get_current_timezone())
    messages = []
    for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
        if not chunk.strip():
            continue
        parsed = email.message_from_bytes(chunk, policy=email.policy.default)
        part = parsed.get_body(preferencelist=("plain",)) if parsed.is_multipart() else parsed
        body = part.get_content() if part is not None else ""
        messages.append(DemoMessage(sent_at, parsed["To"] or "", parsed["Subject"] or "", body))
    return messages


def demo_messages() -> list[DemoMessage]:
    folder = Path(settings.EMAIL_FILE_PATH)
    if not folder.is_dir():
        return []
    files = sorted(folder.glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True)
    messages: list[DemoMessage] = []
    for path in files[:MAX_MESSAGES]:
        messages.extend(reversed(_parse(path)))
    return messages[:MAX_MESSAGES]
