"""Errors only the API can meet: missing headers, bodies that cannot be read. Each renders as
a problem (``egov.core.problem``) with a stable code."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status

from egov.core.errors import ApplicationError


class IdempotencyKeyMissing(ApplicationError):
    code = "idempotency_key_required"
    http_status = 400


class IdempotencyKeyInvalid(ApplicationError):
    code = "idempotency_key_invalid"
    http_status = 400


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"
    default_detail = _("The request is too large. Send less data or smaller files.")


class TooManyParts(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "too_many_parts"
    default_detail = _("The request has too many fields or files.")


class NumberOutOfBounds(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "number_out_of_bounds"
    default_detail = _("The body has a number that is too large. Send smaller numbers.")
