"""What the OpenAPI document says beyond what drf-spectacular sees in the views: the Bearer
token scheme, the problem responses and the headers."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from egov.api.serializers import ProblemSerializer
from egov.core.problem import CONTENT_TYPE as PROBLEM

DESCRIPTIONS = {
    400: "The request is not valid: the body, a parameter or an answer (see errors).",
    401: "No valid credentials: send Authorization: Bearer <token>.",
    403: "The caller may not do this (see code: applicants_only, officials_only, "
    "assurance_too_low, not_allowed).",
    404: "Nothing at this address for the caller.",
    409: "The request conflicts with the current state.",
    413: "The request body is too large.",
    415: "The body must be application/json or multipart/form-data.",
}


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "egov.identity.api_auth.TokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal token (egov_...) issued in the portal. It carries the "
            "level of assurance of the session that issued it.",
        }


class NullableObjectScheme(OpenApiSerializerFieldExtension):
    """An object or null, in a form OpenAPI 3.0 validators accept for both."""

    target_class = "egov.api.serializers.NullableObject"

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        component = auto_schema.resolve_serializer(self.target.serializer_class, direction)
        schema: dict[str, Any] = {"oneOf": [component.ref, {"enum": [None]}], "nullable": True}
        if self.target.help_text:
            schema["description"] = str(self.target.help_text)
        return schema


def problems(*statuses: int) -> dict[Any, OpenApiResponse]:
    """Problem responses for the given statuses, as ``extend_schema(responses=...)`` takes
    them."""
    return {
        (status, PROBLEM): OpenApiResponse(ProblemSerializer, description=DESCRIPTIONS[status])
        for status in statuses
    }


IDEMPOTENCY_KEY = OpenApiParameter(
    name="Idempotency-Key",
    type=str,
    location=OpenApiParameter.HEADER,
    required=True,
    description="1 to 64 visible ASCII characters chosen by the client, e.g. a UUID. Sending "
    "the same submission again with the same key returns the application made the first "
    "time (200) instead of making another; the same key with different answers is a 409.",
)
LOCATION = OpenApiParameter(
    name="Location",
    type=OpenApiTypes.URI,
    location=OpenApiParameter.HEADER,
    response=[201],
    description="The address of the new application.",
)
WWW_AUTHENTICATE = OpenApiParameter(
    name="WWW-Authenticate",
    type=str,
    location=OpenApiParameter.HEADER,
    response=[401],
    description="Bearer",
)
ACCEPT_LANGUAGE = OpenApiParameter(
    name="Accept-Language",
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    description="be, ru or en: the language of the texts in the response (be by default).",
)
