"""The PKI's public endpoints: CA certificates, the CRL and the OCSP responder (RFC 6960).

Protocol endpoints for programs: no session and no login; bad input gets a clear answer
(404, or the OCSP ``malformedRequest`` status), never a 500.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.hazmat.primitives import serialization
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from egov.trust.keys import pki_directory
from egov.trust.ocsp import ocsp_response
from egov.trust.pki import PkiError, ca_certificates, certificate_pem, crl_current
from egov.trust.pki.ocsp import ocsp_malformed

OCSP_REQUEST_TYPE = "application/ocsp-request"
OCSP_RESPONSE_TYPE = "application/ocsp-response"
CRL_TYPE = "application/pkix-crl"
PEM_TYPE = "application/x-pem-file"
#: RFC 6960 requests are a few hundred bytes; anything far larger is not one.
MAX_REQUEST_BYTES = 16 * 1024


def _plain(text: str, status: int) -> HttpResponse:
    response = HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


def _ocsp(der: bytes) -> HttpResponse:
    response = HttpResponse(der, content_type=OCSP_RESPONSE_TYPE)
    # A revocation must be seen at once: no cache keeps an answer.
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def ca_certificate(request: HttpRequest, name: str) -> HttpResponse:
    """``GET /trust/ca/<root|issuing>.pem``."""
    names = ("root", "issuing")
    if name not in names:
        return _plain(_("There is no certification authority of that name."), 404)
    try:
        certificates = ca_certificates(directory=pki_directory())
    except PkiError:
        return _plain(_("The certification authority is not set up yet."), 503)
    response = HttpResponse(certificate_pem(certificates[names.index(name)]), content_type=PEM_TYPE)
    response["Cache-Control"] = "public, max-age=3600"
    return response


@require_GET
def crl(request: HttpRequest, ca: str) -> HttpResponse:
    """``GET /trust/crl/issuing.crl``: DER, re-issued first when it nears its next update."""
    if ca != "issuing":
        return _plain(_("There is no certification authority of that name."), 404)
    try:
        current = crl_current(directory=pki_directory())
    except PkiError:
        return _plain(_("The certification authority is not set up yet."), 503)
    response = HttpResponse(current.public_bytes(serialization.Encoding.DER), content_type=CRL_TYPE)
    response["Cache-Control"] = "public, max-age=300"
    return response


def ocsp_request_from_path(encoded: str) -> bytes | None:
    """The DER request of a GET (RFC 6960 A.1): base64, standard or URL-safe, padding
    optional; None when it is not base64."""
    text = encoded.strip().replace("-", "+").replace("_", "/").replace(" ", "+")
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


@csrf_exempt  # a protocol endpoint for programs: no session, no cookie, nothing to forge
@require_http_methods(["POST"])
def ocsp_post(request: HttpRequest) -> HttpResponse:
    """``POST /trust/ocsp`` with ``application/ocsp-request``."""
    if (request.content_type or "").lower() != OCSP_REQUEST_TYPE:
        return _ocsp(ocsp_malformed())
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_REQUEST_BYTES:
        return _ocsp(ocsp_malformed())
    body = request.read(MAX_REQUEST_BYTES + 1)
    if len(body) > MAX_REQUEST_BYTES:
        return _ocsp(ocsp_malformed())
    return _ocsp(ocsp_response(body))


@require_GET
def ocsp_get(request: HttpRequest, encoded: str) -> HttpResponse:
    """``GET /trust/ocsp/<base64 of the DER request>``."""
    if len(encoded) > MAX_REQUEST_BYTES:
        return _ocsp(ocsp_malformed())
    der = ocsp_request_from_path(encoded)
    if der is None:
        return _ocsp(ocsp_malformed())
    return _ocsp(ocsp_response(der))
