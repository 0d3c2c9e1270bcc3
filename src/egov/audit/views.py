"""The proof of a ledger entry, for the person it is about."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from egov.audit.selectors import entry_of
from egov.audit.services import LedgerError, entry_proof


@login_required
@never_cache
@require_safe
def proof_download(request: HttpRequest, entry_id: int) -> HttpResponse:
    """The entry's inclusion proof in a signed tree head (as ``egov audit proof`` prints
    it), to check with ``egov audit verify-proof`` or any RFC 9162 tool."""
    entry = entry_of(actor=request.user, entry_id=entry_id)
    if entry is None:
        raise Http404
    try:
        proof = entry_proof(entry)
    except LedgerError:
        return render(request, "audit/proof_unavailable.html", status=503)
    response = HttpResponse(
        json.dumps(proof, indent=2), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="ledger-proof-{entry.pk}.json"'
    return response
