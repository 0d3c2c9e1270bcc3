"""The error every use case of the central registry's set-up raises for bad input."""

from __future__ import annotations

from egov.core.errors import ApplicationError


class ExchangeSetupInvalid(ApplicationError):
    code = "exchange_setup_invalid"
    http_status = 400
