"""Handing a stored file back to a person: always as a download that no browser will run or
render inline, under its original (cleaned) name."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404


def content_disposition(name: str) -> str:
    """RFC 6266: a plain ASCII ``filename`` for old clients and the exact name in
    ``filename*`` (RFC 8187, UTF-8, percent-encoded) for every current one."""
    ascii_name = (
        unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").strip()
    )
    ascii_name = "".join(ch for ch in ascii_name if ch.isprintable() and ch not in '"\\;')
    if not ascii_name or ascii_name.startswith("."):
        ascii_name = "file" + (f".{name.rsplit('.', 1)[-1]}" if "." in name else "")
        ascii_name = ascii_name.encode("ascii", "ignore").decode("ascii")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def download_response(file: FieldFile, *, content_type: str, name: str) -> FileResponse:
    if not file.name:
        raise Http404
    try:
        handle = file.storage.open(file.name, "rb")
    except FileNotFoundError as missing:
        raise Http404 from missing
    response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = content_disposition(name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
