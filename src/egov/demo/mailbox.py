"""The demo's mailbox: emails the platform sent, read back from the file backend's folder,
so a trainee can open a verification link without a mail server.

The mailbox is not a window on everybody's mail: it would hand any visitor the password-reset
links of every account. Each browser gets a mailbox id (a signed cookie, made when the first
email is sent during one of its requests), and :class:`EmailBackend` writes that id into every
message sent during that browser's requests. An address belongs to the browser whose message
reached it first (for an account made in the demo, the browser that registered it), and a
browser sees only the mail to its own addresses: another browser that asks for a reset of
that address does not get the link. A platform administrator, with the second factor, sees
every message.
"""

from __future__ import annotations

import email
import email.policy
import os
import secrets
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail.backends.filebased import EmailBackend as FileEmailBackend
from django.core.mail.message import EmailMessage
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from egov.core.admin_site import admin_site
from egov.core.secrets import PRIVATE_FILE, private_directory

MAX_MESSAGES = 30
#: Header of each message written by :class:`EmailBackend`: the sending browser's mailbox id.
MAILBOX_HEADER = "X-Egov-Demo-Mailbox"
COOKIE_NAME = "egov_demo_mailbox"
COOKIE_SALT = "egov.demo.mailbox"
COOKIE_MAX_AGE = 30 * 24 * 3600
#: Where Django's file backend separates the messages of one connection.
SEPARATOR = b"\n" + b"-" * 79 + b"\n"

_current_request: ContextVar[HttpRequest | None] = ContextVar("demo_request", default=None)


@dataclass(frozen=True)
class DemoMessage:
    sent_at: datetime
    to: str
    subject: str
    body: str


@dataclass(frozen=True)
class _Stored:
    sent_at: datetime
    recipients: tuple[str, ...]
    mailbox: str
    raw: bytes


def mailbox_of(request: HttpRequest) -> str | None:
    """The browser's mailbox id, or ``None`` when it has none (no email sent for it yet)."""
    mailbox_id: str | None = request.get_signed_cookie(COOKIE_NAME, None, salt=COOKIE_SALT)
    return getattr(request, "_demo_mailbox_new", None) or mailbox_id


def _mailbox_for_sending(request: HttpRequest) -> str:
    existing = mailbox_of(request)
    if existing:
        return existing
    created = secrets.token_urlsafe(18)
    request._demo_mailbox_new = created  # type: ignore[attr-defined]
    return created


class DemoMailboxMiddleware:
    """Makes the request known to :class:`EmailBackend` while it runs, and gives the browser
    its mailbox cookie when the request sent its first email. Does nothing outside the demo."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not settings.DEMO_MODE:
            return self.get_response(request)
        token = _current_request.set(request)
        try:
            response = self.get_response(request)
        finally:
            _current_request.reset(token)
        created = getattr(request, "_demo_mailbox_new", None)
        if created:
            response.set_signed_cookie(
                COOKIE_NAME,
                created,
                salt=COOKIE_SALT,
                max_age=COOKIE_MAX_AGE,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response


class EmailBackend(FileEmailBackend):
    """Django's file backend, marking each message with the sending browser's mailbox id
    (messages sent outside a browser's request, by the worker, carry none)."""

    def __init__(self, *, file_path: str | None = None, **kwargs: Any) -> None:
        # The mail holds reset and confirmation links: its folder and files are private.
        private_directory(Path(file_path or settings.EMAIL_FILE_PATH).absolute())
        super().__init__(file_path=file_path, **kwargs)

    def open(self) -> bool:
        if self.stream is None:
            filename = self._get_filename()
            descriptor = os.open(filename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE)
            self.stream = os.fdopen(descriptor, "ab")
            return True
        return False

    def send_messages(self, email_messages: Any) -> int:
        request = _current_request.get()
        if request is not None:
            mailbox_id = _mailbox_for_sending(request)
            for message in email_messages:
                if isinstance(message, EmailMessage):
                    message.extra_headers[MAILBOX_HEADER] = mailbox_id
        return super().send_messages(email_messages)


def _stored_messages() -> list[_Stored]:
    """Every message in the folder, oldest first (headers parsed, bodies kept raw)."""
    folder = Path(settings.EMAIL_FILE_PATH)
    if not folder.is_dir():
        return []
    stored = []
    for path in folder.glob("*.log"):
        sent_at = datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.get_current_timezone())
        for chunk in path.read_bytes().split(SEPARATOR):
            if not chunk.strip():
                continue
            headers = BytesHeaderParser(policy=email.policy.compat32).parsebytes(chunk)
            recipients = tuple(
                address.lower() for _, address in getaddresses(headers.get_all("To", [])) if address
            )
            mailbox_id = str(headers.get(MAILBOX_HEADER, "")).strip()
            stored.append(_Stored(sent_at, recipients, mailbox_id, chunk))
    stored.sort(key=lambda message: message.sent_at)
    return stored


def _owners(stored: list[_Stored]) -> dict[str, str]:
    """Each address's owner: the mailbox of the first marked message sent to it."""
    owners: dict[str, str] = {}
    for message in stored:
        if message.mailbox:
            for address in message.recipients:
                owners.setdefault(address, message.mailbox)
    return owners


def _shown(stored: _Stored) -> DemoMessage:
    parsed = email.message_from_bytes(stored.raw, policy=email.policy.default)
    part = parsed.get_body(preferencelist=("plain",)) if parsed.is_multipart() else parsed
    body = part.get_content() if part is not None else ""
    return DemoMessage(stored.sent_at, parsed["To"] or "", parsed["Subject"] or "", body)


def demo_messages(*, request: HttpRequest) -> list[DemoMessage]:
    """The newest messages this visitor may read: to their browser's addresses, or all of
    them for a platform administrator."""
    stored = _stored_messages()
    if not admin_site.has_permission(request):
        mailbox_id = mailbox_of(request)
        if not mailbox_id:
            return []
        owners = _owners(stored)
        stored = [
            message
            for message in stored
            if message.recipients
            and all(owners.get(address) == mailbox_id for address in message.recipients)
        ]
    return [_shown(message) for message in reversed(stored[-MAX_MESSAGES:])]
