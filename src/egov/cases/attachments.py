"""Checking and storing uploaded files.

The type is decided by the file's content (its magic bytes), never by its name or the
browser's claim; the stored name is random and the person's file name is cleaned before it is
shown again. A file that fails a check is not stored at all.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import filetype
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext as _

from egov.cases.models import Attachment
from egov.core.errors import ApplicationError
from egov.identity.models import User

EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
TYPE_NAMES = {"application/pdf": "PDF", "image/jpeg": "JPG", "image/png": "PNG"}
#: Files answering a request for information: any of the usual document types.
ANSWER_RULE = {
    "code": "",
    "content_types": list(EXTENSIONS),
    "max_size_mb": 10,
    "min_files": 0,
    "max_files": 5,
}


class FileRejected(ApplicationError):
    code = "file_rejected"
    http_status = 400

    @property
    def errors(self) -> dict[str, str]:
        return {self.field or "file": str(self.message)}


@dataclass(frozen=True)
class CheckedFile:
    upload: UploadedFile
    content_type: str
    size: int
    sha256: str
    name: str


def clean_name(name: str, content_type: str) -> str:
    """A display name safe anywhere: no folders, no control or bidi characters, at most 100
    characters, and the extension that matches the real content."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] not in ("C",))
    name = re.sub(r"[<>:\"|?*\s]+", " ", name).strip(" .")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = stem[:90].strip() or "file"
    return f"{stem}.{EXTENSIONS[content_type]}"


def file_check(upload: UploadedFile, rule: Mapping[str, Any]) -> CheckedFile:
    """Raise :class:`FileRejected` with a message for the person, or return the facts."""
    allowed = list(rule["content_types"])
    types = ", ".join(TYPE_NAMES[t] for t in allowed)
    limit = int(float(rule["max_size_mb"]) * 1024 * 1024)
    size = upload.size or 0
    if size == 0:
        raise FileRejected(_("The selected file is empty."), field=rule.get("code"))
    if size > limit:
        raise FileRejected(
            _("The file must be smaller than %(size)s MB.") % {"size": rule["max_size_mb"]},
            field=rule.get("code"),
        )
    upload.seek(0)
    head = upload.read(8192)
    kind = filetype.guess(head)
    content_type = kind.mime if kind else ""
    if content_type not in allowed:
        raise FileRejected(
            _("The file must be a %(types)s. Its content is not.") % {"types": types},
            field=rule.get("code"),
        )
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return CheckedFile(
        upload=upload,
        content_type=content_type,
        size=size,
        sha256=digest.hexdigest(),
        name=clean_name(upload.name or "file", content_type),
    )


def files_check(
    uploads: Iterable[UploadedFile], rule: Mapping[str, Any], already: int = 0
) -> list[CheckedFile]:
    uploads = list(uploads)
    if already + len(uploads) > int(rule.get("max_files", 1)):
        raise FileRejected(
            _("You can attach no more than %(count)d files here.")
            % {"count": rule.get("max_files", 1)},
            field=rule.get("code"),
        )
    return [file_check(upload, rule) for upload in uploads]


def files_delete(names: Iterable[str | None]) -> None:
    from django.core.files.storage import default_storage

    for name in names:
        if name:
            default_storage.delete(name)


@contextmanager
def files_kept_only_on_commit() -> Iterator[list[str | None]]:
    """Files stored inside are deleted again if the transaction around them fails, its
    commit included: open it outside ``transaction.atomic()``."""
    written: list[str | None] = []
    try:
        yield written
    except BaseException:
        files_delete(written)
        raise


def attachments_store(
    checked: list[CheckedFile], *, written: list[str | None], actor: User, **owner: Any
) -> list[Attachment]:
    """Store files and their rows, noting each file in ``written`` (see above)."""
    stored = []
    now = timezone.now()
    for item in checked:
        attachment = Attachment(
            original_name=item.name,
            content_type=item.content_type,
            size=item.size,
            sha256=item.sha256,
            uploaded_by=actor,
            created_at=now,
            **owner,
        )
        attachment.file.save(item.name, item.upload, save=False)
        written.append(attachment.file.name)
        attachment.save()
        stored.append(attachment)
    return stored
