"""Checks of what the central registry stores: identifiers, certificates, OpenAPI documents,
endpoints. Each raises a ValidationError with a translated message that says what to do."""

from __future__ import annotations

from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from egov.trust.pki import load_certificate

identifier_validator = RegexValidator(
    r"^[A-Za-z0-9._-]{1,64}$",
    _("Use 1–64 Latin letters, digits, dots, underscores or hyphens, e.g. population."),
)
address_validator = RegexValidator(
    r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^https://\[[0-9A-Fa-f:]+\](:[0-9]{1,5})?$",
    _("Use https://host:port, e.g. https://127.0.0.1:8443, with no path."),
)

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "*")


def certificate_pem_validator(value: str) -> None:
    if "-----BEGIN CERTIFICATE-----" not in value:
        raise ValidationError(
            _("Paste an X.509 certificate in PEM form (-----BEGIN CERTIFICATE-----)."),
            code="certificate",
        )
    try:
        load_certificate(value.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise ValidationError(
            _("This is not a readable certificate: paste the whole PEM file."),
            code="certificate",
        ) from None


def openapi_validator(value: str) -> None:
    try:
        document = yaml.safe_load(value)
    except yaml.YAMLError as error:
        raise ValidationError(
            _("The OpenAPI description is not valid YAML: %(error)s"),
            code="openapi",
            params={"error": str(error).splitlines()[0] if str(error) else ""},
        ) from None
    if not isinstance(document, dict) or "openapi" not in document:
        raise ValidationError(
            _("The OpenAPI description needs an “openapi” key, e.g. openapi: 3.1.0."),
            code="openapi",
        )


def endpoints_validator(value: Any) -> None:
    message = _(
        "List the endpoints as JSON, e.g. "
        '[{"method": "GET", "path": "/*"}]: a method and a path starting with “/”.'
    )
    if not isinstance(value, list):
        raise ValidationError(message, code="endpoints")
    for endpoint in value:
        if (
            not isinstance(endpoint, dict)
            or set(endpoint) != {"method", "path"}
            or endpoint["method"] not in HTTP_METHODS
            or not isinstance(endpoint["path"], str)
            or not endpoint["path"].startswith("/")
        ):
            raise ValidationError(message, code="endpoints")
