"""``POST /trust/tsa``: the RFC 3161 timestamp authority over HTTP (RFC 3161 §3.4)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from egov.trust.tsa import (
    MAX_QUERY_BYTES,
    QUERY_CONTENT_TYPE,
    REPLY_CONTENT_TYPE,
    timestamp_respond,
)


def _plain(text: str, status: int) -> HttpResponse:
    response = HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt  # a protocol endpoint for programs: no session, no cookie, nothing to forge
@require_POST
def timestamp(request: HttpRequest) -> HttpResponse:
    content_type = (request.content_type or "").lower()
    if content_type != QUERY_CONTENT_TYPE:
        return _plain(_("Send a timestamp query as application/timestamp-query."), 415)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_QUERY_BYTES:
        return _plain(_("A timestamp query is at most 16 KiB."), 413)
    body = request.read(MAX_QUERY_BYTES + 1)
    if len(body) > MAX_QUERY_BYTES:
        return _plain(_("A timestamp query is at most 16 KiB."), 413)
    response = HttpResponse(timestamp_respond(body), content_type=REPLY_CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    return response
