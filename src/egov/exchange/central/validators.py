"""Checks of what the central registry stores: identifiers, certificates, OpenAPI documents,
endpoints. Each raises a ValidationError with a translated message that says what to do."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any

import yaml
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator, URLValidator
from django.utils.translation import gettext_lazy as _

from egov.exchange.endpoints import ANY, ANY_SEGMENTS, EndpointError, endpoint_validate
from egov.exchange.identifiers import PART_CHARACTERS
from egov.trust.pki import load_certificate

#: Exactly the gateways' rule (PR-REST §4.8): what the registry accepts, a gateway can parse.
identifier_validator = RegexValidator(
    rf"^(?!\.\.?$)[{PART_CHARACTERS}]{{1,64}}$",
    _(
        "Use 1–64 Latin letters, digits or the characters ' ( ) + , - . = ? (X-Road's "
        "identifier characters), e.g. population."
    ),
)
address_validator = RegexValidator(
    r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^https://\[[0-9A-Fa-f:]+\](:[0-9]{1,5})?$",
    _("Use https://host:port, e.g. https://127.0.0.1:8443, with no path."),
)

listen_validator = RegexValidator(
    r"^[A-Za-z0-9.-]+:[0-9]{1,5}$|^\[[0-9A-Fa-f:]+\]:[0-9]{1,5}$",
    _("Use host:port, e.g. 127.0.0.1:8080."),
)
backend_url_validator = URLValidator(
    schemes=["http", "https"],
    message=_("Use the http:// or https:// address of the service, e.g. http://10.0.0.7:8080/v1."),
)
purpose_code_validator = RegexValidator(
    r"^[A-Za-z0-9._-]{1,64}$",
    _("Use 1–64 Latin letters, digits, dots, underscores or hyphens, e.g. check."),
)

#: The operations of an OpenAPI path item.
OPENAPI_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


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


def client_certificate_validator(value: str) -> None:
    """A certificate an information system presents on the TLS client side of its gateway:
    readable, not a CA, and usable for TLS client authentication."""
    certificate_pem_validator(value)
    certificate = load_certificate(value.encode("ascii"))
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
        is_ca = constraints.value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    try:
        usages = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        client_auth = ExtendedKeyUsageOID.CLIENT_AUTH in usages
    except x509.ExtensionNotFound:
        client_auth = True
    if is_ca or not client_auth:
        raise ValidationError(
            _(
                "This certificate cannot authenticate a TLS client: issue one with "
                "`egov pki issue --profile information-system`."
            ),
            code="certificate",
        )


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
        '[{"method": "GET", "path": "/*"}]: a method (or *) and a path starting with “/”, '
        "where * matches within one segment and ** any number of segments."
    )
    if not isinstance(value, list):
        raise ValidationError(message, code="endpoints")
    for endpoint in value:
        if not isinstance(endpoint, dict) or set(endpoint) != {"method", "path"}:
            raise ValidationError(message, code="endpoints")
        try:
            endpoint_validate(endpoint["method"], endpoint["path"])
        except (EndpointError, TypeError):
            raise ValidationError(message, code="endpoints") from None


def openapi_endpoints(document: str) -> list[dict[str, str]]:
    """The ``{method, path}`` endpoints an OpenAPI document describes, with path templates
    (``/{number}``) as patterns (``/*``), in the document's order."""
    try:
        parsed = yaml.safe_load(document)
    except yaml.YAMLError:
        return []
    paths = parsed.get("paths") if isinstance(parsed, dict) else None
    if not isinstance(paths, dict):
        return []
    endpoints = []
    for path, item in paths.items():
        if not isinstance(path, str) or not path.startswith("/") or not isinstance(item, dict):
            continue
        pattern = "/".join(_template_as_pattern(segment) for segment in path.split("/"))
        for method in OPENAPI_METHODS:
            if method in item:
                endpoints.append({"method": method.upper(), "path": pattern})
    return endpoints


def _template_as_pattern(segment: str) -> str:
    """``{number}`` → ``*``, ``{number}.json`` → ``*.json``."""
    result, depth = [], 0
    for character in segment:
        if character == "{":
            if depth == 0:
                result.append(ANY)
            depth += 1
        elif character == "}" and depth:
            depth -= 1
        elif depth == 0:
            result.append(character)
    return "".join(result)


def _segment_overlaps(first: str, second: str) -> bool:
    """Whether some path segment matches both glob segments (``*`` within the segment)."""
    if ANY not in first:
        return _glob_matches(second, first)
    if ANY not in second:
        return _glob_matches(first, second)
    # Both have a star: a common string exists exactly when the literal prefixes agree and
    # the literal suffixes agree (the middle pieces can all be placed between them).
    first_prefix, first_suffix = first.split(ANY)[0], first.split(ANY)[-1]
    second_prefix, second_suffix = second.split(ANY)[0], second.split(ANY)[-1]
    return (first_prefix.startswith(second_prefix) or second_prefix.startswith(first_prefix)) and (
        first_suffix.endswith(second_suffix) or second_suffix.endswith(first_suffix)
    )


def _glob_matches(pattern: str, text: str) -> bool:
    parts = pattern.split(ANY)
    if len(parts) == 1:
        return pattern == text
    if not text.startswith(parts[0]) or not text[len(parts[0]) :].endswith(parts[-1]):
        return False
    position, end = len(parts[0]), len(text) - len(parts[-1])
    for part in parts[1:-1]:
        found = text.find(part, position, end)
        if found < 0:
            return False
        position = found + len(part)
    return position <= end


def paths_overlap(first: str, second: str) -> bool:
    """Whether some request path matches both path patterns (``**`` a whole segment for any
    number of segments), with the segments of :mod:`egov.exchange.endpoints`."""
    return _overlap(tuple(first[1:].split("/")), tuple(second[1:].split("/")))


@functools.lru_cache(maxsize=1024)
def _overlap(first: tuple[str, ...], second: tuple[str, ...]) -> bool:
    if not first and not second:
        return True
    if first and first[0] == ANY_SEGMENTS:
        return _overlap(first[1:], second) or (bool(second) and _overlap(first, second[1:]))
    if second and second[0] == ANY_SEGMENTS:
        return _overlap(first, second[1:]) or (bool(first) and _overlap(first[1:], second))
    if not first or not second:
        return False
    return _segment_overlaps(first[0], second[0]) and _overlap(first[1:], second[1:])


def endpoints_uncovered(
    wanted: Iterable[Mapping[str, str]], described: Iterable[Mapping[str, str]]
) -> list[Mapping[str, str]]:
    """The endpoints of ``wanted`` that no endpoint of ``described`` overlaps."""
    described = list(described)
    return [
        endpoint
        for endpoint in wanted
        if not any(
            (ANY in (endpoint["method"], other["method"]) or endpoint["method"] == other["method"])
            and paths_overlap(endpoint["path"], other["path"])
            for other in described
        )
    ]
