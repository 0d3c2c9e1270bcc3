"""Reading request bodies so that nothing a client sends can crash the API.

DRF's JSON parser lets a deeply nested document reach the recursion limit (a 500) and reads a
body of any size up to the upload limit; this one bounds both and explains errors in the
client's language. Numbers are bounded on their text before they are converted
(``egov.core.numbers``): a literal of a hundred thousand digits or with an exponent of a
million is refused at once rather than turned into a giant integer. A multipart submission
carries its JSON in the ``payload`` field, read by the same rules.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import IO, Any

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers

from egov.api.errors import NumberOutOfBounds, RequestTooLarge
from egov.core.numbers import MAX_DIGITS, NumberError, json_float, json_integer
from egov.core.uploads import declared_length, upload_limit, upload_refused, upload_refused_log

#: The largest JSON document accepted: answers to a form are a few kilobytes.
MAX_JSON_BYTES = 1024 * 1024
MULTIPART = "multipart/form-data"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def json_parse(raw: bytes | str) -> Any:
    """Parse JSON text, or raise a 400 problem (413 when it is too large)."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", errors="surrogatepass")
    if len(raw) > MAX_JSON_BYTES:
        raise RequestTooLarge()
    try:
        return json.loads(
            raw.decode("utf-8"),
            parse_constant=_reject_constant,
            parse_int=json_integer,
            parse_float=json_float,
        )
    except NumberError:
        raise NumberOutOfBounds(
            _(
                "The body has a number with more than %(count)d digits before or after the "
                "decimal point. Send smaller numbers."
            )
            % {"count": MAX_DIGITS}
        ) from None
    except json.JSONDecodeError as error:
        raise exceptions.ParseError(
            _("The body is not valid JSON (line %(line)d, column %(column)d).")
            % {"line": error.lineno, "column": error.colno}
        ) from None
    except (ValueError, RecursionError):
        raise exceptions.ParseError(_("The body is not valid JSON.")) from None


def body_size_check(request: Any) -> None:
    """Refuse a body whose Content-Length is over its limit (``MAX_JSON_BYTES`` for JSON, the
    upload limit otherwise) before a byte of it is read: DRF reads a JSON body whole before
    its parser sees it, so this runs when the view starts."""
    content_type = (request.content_type or "").split(";")[0].strip()
    limit = upload_limit() if content_type == MULTIPART else MAX_JSON_BYTES
    declared = declared_length(request)
    if declared > limit:
        upload_refused_log(
            getattr(request, "_request", request), reason="content_length", size=declared
        )
        raise RequestTooLarge()


class JSONParser(parsers.JSONParser):
    def parse(
        self,
        stream: IO[bytes],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        return json_parse(stream.read(MAX_JSON_BYTES + 1))


class MultiPartParser(parsers.MultiPartParser):
    """Files stream through ``egov.core.uploads.BoundedUploadHandler``, which stops them at
    the upload limit: then this is a 413 problem, whatever part of the body was parsed."""

    def parse(
        self,
        stream: IO[bytes],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        parsed = super().parse(stream, media_type, parser_context)
        request = (parser_context or {}).get("request")
        if request is not None and upload_refused(getattr(request, "_request", request)):
            raise RequestTooLarge()
        return parsed


def body_and_files(request: Any) -> tuple[Any, dict[str, list[UploadedFile]]]:
    """The JSON document of a request and its files by field name.

    A JSON request is its own document. A multipart request carries the document as text in
    the ``payload`` field (or, for simple bodies, as plain fields) and files in fields named as
    the files' purpose."""
    data = request.data
    if not (request.content_type or "").startswith(MULTIPART):
        return data, {}
    files = {name: list(request.FILES.getlist(name)) for name in request.FILES}
    if "payload" in data:
        payload = data.get("payload")
        if not isinstance(payload, str):
            raise exceptions.ParseError(_("The payload field must be JSON text, not a file."))
        return json_parse(payload), files
    fields = {name: data.get(name) for name in data if name not in files}
    return fields, files
