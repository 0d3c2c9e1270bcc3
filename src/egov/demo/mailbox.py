"""The demo's mailbox: emails the platform sent, read back from the file backend's folder,
so a trainee can open a verification link without a mail server.

The mailbox is not a window on everybody's mail: it would hand any visitor the password-reset
links of every account. Each browser that registers gets a mailbox id (a signed cookie), and
the registration hands it to the confirmation email (the worker writes it into the message as
:data:`MAILBOX_HEADER`). Only that email claims its address for the browser: a password reset
or a registration attempt with someone else's address claims nothing, so a stranger's browser
never reads the mail of an address it did not register. A browser sees the mail to the
addresses it claimed (each message goes to the browser whose claim on the address is the
latest before it, so a later registration of a freed address takes it over); a signed-in
person also sees the mail to their own account's address; the rest, the mail of seeded
accounts included, is shown to a platform administrator with the second factor only.
"""

from __future__ import annotations

import email
import email.policy
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail.backends.filebased import EmailBackend as FileEmailBackend
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from egov.core.admin_site import admin_site
from egov.core.secrets import PRIVATE_FILE, private_directory
from egov.identity.services import MAILBOX_MARK_HEADER

MAX_MESSAGES = 30
#: Header of a confirmation email: the mailbox id of the browser that registered.
MAILBOX_HEADER = MAILBOX_MARK_HEADER
COOKIE_NAME = "egov_demo_mailbox"
COOKIE_SALT = "egov.demo.mailbox"
COOKIE_MAX_AGE = 30 * 24 * 3600
#: Where Django's file backend separates the messages of one connection.
SEPARATOR = b"\n" + b"-" * 79 + b"\n"


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
    """The browser's mailbox id, or ``None`` when it has none (it has not registered)."""
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
        # The registration asks for the browser's mark only when it queues a confirmation.
        request.egov_mailbox_mark = lambda: _mailbox_for_sending(request)  # type: ignore[attr-defined]
        response = self.get_response(request)
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
    """Django's file backend, writing private files (the confirmation email carries the
    registering browser's mark, :data:`MAILBOX_HEADER`, from the registration itself)."""

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


def _readable(stored: list[_Stored], *, mailbox_id: str | None, own: str) -> list[_Stored]:
    """The messages whose every recipient is the visitor's own account's address or an
    address the visitor's browser held when the message was sent: the latest confirmation
    email to the address, up to and including this message, carried its mailbox id."""
    holders: dict[str, str] = {}
    readable = []
    for message in stored:
        if message.mailbox:
            for address in message.recipients:
                holders[address] = message.mailbox
        if message.recipients and all(
            (own and address == own) or (mailbox_id and holders.get(address) == mailbox_id)
            for address in message.recipients
        ):
            readable.append(message)
    return readable


def _shown(stored: _Stored) -> DemoMessage:
    parsed = email.message_from_bytes(stored.raw, policy=email.policy.default)
    part = parsed.get_body(preferencelist=("plain",)) if parsed.is_multipart() else parsed
    body = part.get_content() if part is not None else ""
    return DemoMessage(stored.sent_at, parsed["To"] or "", parsed["Subject"] or "", body)


def demo_messages(*, request: HttpRequest) -> list[DemoMessage]:
    """The newest messages this visitor may read: to the addresses their browser registered
    and to their own account's address, or all of them for a platform administrator."""
    stored = _stored_messages()
    if not admin_site.has_permission(request):
        own = request.user.email.lower() if request.user.is_authenticated else ""
        stored = _readable(stored, mailbox_id=mailbox_of(request), own=own)
    return [_shown(message) for message in reversed(stored[-MAX_MESSAGES:])]
