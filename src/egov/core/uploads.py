"""Request bodies over the limit are refused before they are read, and while they are read.

Django applies ``DATA_UPLOAD_MAX_MEMORY_SIZE`` to form fields only: the files of a multipart
body are streamed to temporary files whatever their size, and a per-service size check
afterwards refuses a 300 MB part only once all of it has been written to disk. Here the
same limit holds for the whole body, twice:

- ``RequestSizeLimitMiddleware`` answers 413 when the declared ``Content-Length`` is over the
  limit, before anything reads the body (it runs before the CSRF check, which reads forms);
- ``BoundedUploadHandler``, the first upload handler, counts the bytes of files as they
  stream and stops at the limit, whatever the header said (a body longer than declared, a
  server that passes chunked bodies on).

The portal answers with a translated page, the API with a problem (``request_too_large``);
nothing is written and a draft keeps what it had. Each refusal is a security event.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from egov.core.logging import security_event
from egov.core.numbers import NumberError, NumberOutOfBounds, parse_integer
from egov.core.problem import CONTENT_TYPE, PROBLEM_TYPE, TITLES

API_PREFIX = "/api/"
MULTIPART = "multipart/form-data"


class UploadTooLarge(RequestDataTooBig):
    """The body is larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE``."""


def upload_refused(request: HttpRequest) -> bool:
    """Whether ``BoundedUploadHandler`` stopped this request's body. Reading ``FILES`` first
    is the caller's part: ``request_files`` does both."""
    return bool(getattr(request, "egov_upload_refused", False))


def request_files(request: HttpRequest) -> Any:
    """``request.FILES``, or ``UploadTooLarge`` when the body was stopped at the limit (what
    Django's parser returns then is cut short and must not be used)."""
    files = request.FILES
    if upload_refused(request):
        raise UploadTooLarge("The request body is larger than the upload limit.")
    return files


def upload_limit() -> int:
    return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


def _user_id(request: HttpRequest | None) -> int | None:
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None


def upload_refused_log(request: HttpRequest | None, *, reason: str, size: int) -> None:
    security_event(
        "upload_refused", reason=reason, size=size, limit=upload_limit(), user_id=_user_id(request)
    )


def declared_length(request: HttpRequest) -> int:
    """The body's declared length, read by the bounded parser. A header with more digits
    than any body counts as over the limit; one that is not a number as none (Django then
    reads no body at all)."""
    raw = str(request.META.get("CONTENT_LENGTH") or "").strip()
    if not raw:
        return 0
    try:
        return max(parse_integer(raw), 0)
    except NumberOutOfBounds:
        return upload_limit() + 1
    except NumberError:
        return 0


class BoundedUploadHandler(FileUploadHandler):
    """Counts every byte of file data that streams in and stops the upload at the limit.

    It comes first in ``FILE_UPLOAD_HANDLERS``: the handlers after it (memory, temporary file)
    never receive the chunk that crosses the limit."""

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > upload_limit():
            upload_refused_log(self.request, reason="streamed", size=self.received)
            if self.request is not None:
                self.request.egov_upload_refused = True  # type: ignore[attr-defined]
            # StopUpload makes Django's parser close (and so delete) the partial file and
            # read no further; the flag turns what it returns into a refusal.
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def too_large_response(request: HttpRequest) -> HttpResponse:
    """413: a problem for the API, the page in the visitor's language elsewhere."""
    megabytes = upload_limit() // (1024 * 1024)
    if request.path.startswith(API_PREFIX):
        body = {
            "type": PROBLEM_TYPE + "request_too_large",
            "title": str(TITLES[413]()),
            "status": 413,
            "code": "request_too_large",
            "detail": _("The request is too large. Send less data or smaller files."),
        }
        response = HttpResponse(json.dumps(body), status=413, content_type=CONTENT_TYPE)
    else:
        context = {"megabytes": megabytes, "again": request.get_full_path()}
        response = render(request, "errors/413.html", context, status=413)
    add_never_cache_headers(response)
    return response


class RequestSizeLimitMiddleware:
    """Refuses a body over the limit on its ``Content-Length``, and turns a refusal while the
    body streams into the same answer. It must come before ``CsrfViewMiddleware``: its
    ``process_view`` is the first thing that may read a body."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        declared = declared_length(request)
        if declared > upload_limit():
            upload_refused_log(request, reason="content_length", size=declared)
            return too_large_response(request)
        if (
            request.method == "POST"
            and not request.path.startswith(API_PREFIX)  # the API parses its own bodies
            and (request.content_type or "").startswith(MULTIPART)
        ):
            try:
                request_files(request)  # parse now, while a refusal can still answer 413
            except UploadTooLarge:
                return too_large_response(request)
        return None
