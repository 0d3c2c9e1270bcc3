"""Errors that business rules raise. Each carries a translated message for a person and a
stable code for another system."""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    code = "application_error"
    #: The HTTP status the API answers with (problem+json).
    http_status = 422

    def __init__(self, message: Any, *, code: str | None = None, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field
        if code:
            self.code = code
