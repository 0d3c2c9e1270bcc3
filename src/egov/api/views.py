"""The REST API, version 1. Each endpoint parses its input, calls one selector or service and
renders the result; the rules live in the domain apps. Errors are problems
(``application/problem+json``), see ``egov.core.problem``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.files.uploadedfile import UploadedFile
from django.urls import reverse
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiRequest, extend_schema
from rest_framework import exceptions, status
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from egov.api.errors import (
    IdempotencyKeyInvalid,
    IdempotencyKeyMissing,
    RequestTooLarge,
    TooManyParts,
)
from egov.api.parsers import JSONParser, MultiPartParser, body_and_files, body_size_check
from egov.api.permissions import IsApplicant, IsOfficial, acting_user, assurance_require
from egov.api.schema import (
    ACCEPT_LANGUAGE,
    IDEMPOTENCY_KEY,
    LOCATION,
    WWW_AUTHENTICATE,
    problems,
)
from egov.api.serializers import (
    AnswerMultipartSerializer,
    AnswerSerializer,
    ApplicationDetailSerializer,
    ApplicationSummarySerializer,
    CaseDetailSerializer,
    CaseFilterSerializer,
    CaseSummarySerializer,
    CatalogueFilterSerializer,
    ServiceDetailSerializer,
    ServiceSummarySerializer,
    SubmissionMultipartSerializer,
    SubmissionSerializer,
    TransitionSerializer,
    WithdrawSerializer,
)
from egov.cases import selectors as cases
from egov.cases import services as case_services
from egov.cases.models import Application
from egov.catalog import selectors as catalog
from egov.core.numbers import NumberError, parse_integer
from egov.core.problem import problem

logger = structlog.get_logger(__name__)

MAX_IDEMPOTENCY_KEY = 64
ANSWER_FILES_FIELD = "files"


class Pagination(LimitOffsetPagination):
    """``limit`` and ``offset`` read by the bounded parser: a value that is not a whole number
    in range is a 400 naming the parameter, never a giant integer or a database overflow."""

    max_limit = 200
    max_offset = 2**31 - 1

    def get_limit(self, request: Any) -> int | None:
        raw = request.query_params.get(self.limit_query_param)
        if raw is None:
            return self.default_limit
        return min(_page_parameter(self.limit_query_param, raw, 1, None), self.max_limit)

    def get_offset(self, request: Any) -> int:
        raw = request.query_params.get(self.offset_query_param)
        if raw is None:
            return 0
        return _page_parameter(self.offset_query_param, raw, 0, self.max_offset)


def _page_parameter(name: str, raw: str, minimum: int, maximum: int | None) -> int:
    try:
        return parse_integer(raw.strip(), minimum=minimum, maximum=maximum)
    except NumberError:
        if maximum is None:
            message = _("Enter a whole number of %(minimum)d or more.") % {"minimum": minimum}
        else:
            message = _("Enter a whole number from %(minimum)d to %(maximum)d.") % {
                "minimum": minimum,
                "maximum": maximum,
            }
        raise exceptions.ValidationError({name: [message]}) from None


class ApiView(GenericAPIView):
    #: JSON, bounded (see ``egov.api.parsers``), and multipart for files; nothing else (415).
    parser_classes = [JSONParser, MultiPartParser]
    pagination_class = Pagination
    #: OPTIONS is not part of the API: it answers 405 like any method an address lacks.
    http_method_names = [name for name in GenericAPIView.http_method_names if name != "options"]

    #: Public catalogue data, the same for everyone: caches may keep a successful answer.
    #: Every other answer, errors included, may carry personal data and is ``no-store``.
    public_data = False

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        body_size_check(request)

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        if not (self.public_data and response.status_code < 400):
            add_never_cache_headers(response)
        return response

    def handle_exception(self, exc: Exception) -> Response:
        """Every failure is a problem: limits Django enforces while reading the body become
        413 or 400, and an unexpected error a 500 problem rather than an HTML page."""
        if isinstance(exc, RequestDataTooBig):
            exc = RequestTooLarge()
        elif isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
            exc = TooManyParts()
        try:
            return super().handle_exception(exc)
        except Exception:
            logger.exception("API request failed: %s %s", self.request.method, self.request.path)
            return problem(
                500, "server_error", _("Something went wrong on our side. Try again later.")
            )

    def paginated(self, items: Sequence[Any] | Any, serializer: type, **context: Any) -> Response:
        page = self.paginate_queryset(items)
        data = serializer(page, many=True, context=context).data
        return self.get_paginated_response(data)


def _not_found() -> exceptions.NotFound:
    return exceptions.NotFound(_("There is nothing at this address for you."))


def _language() -> str:
    return translation.get_language() or settings.LANGUAGE_CODE


# --- catalogue ------------------------------------------------------------------------------


class ServiceListView(ApiView):
    """The public catalogue. No login: what it shows does not depend on who asks."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    public_data = True

    @extend_schema(
        operation_id="catalogue_services_list",
        summary="List the published services",
        tags=["catalogue"],
        parameters=[CatalogueFilterSerializer, ACCEPT_LANGUAGE],
        responses={200: ServiceSummarySerializer(many=True), **problems(400)},
    )
    def get(self, request: Request) -> Response:
        filters = CatalogueFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        services = catalog.service_list(
            audience=filters.validated_data.get("audience") or None,
            agency=filters.validated_data.get("agency"),
        )
        return self.paginated(services, ServiceSummarySerializer)


class ServiceDetailView(ApiView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    public_data = True

    @extend_schema(
        operation_id="catalogue_services_retrieve",
        summary="A service, with the form to apply online",
        tags=["catalogue"],
        parameters=[ACCEPT_LANGUAGE],
        responses={200: ServiceDetailSerializer, **problems(404)},
    )
    def get(self, request: Request, code: str) -> Response:
        service = catalog.service_get(code=code)
        if service is None:
            raise _not_found()
        version = catalog.service_version_published(service=service)
        return Response(ServiceDetailSerializer(service, context={"version": version}).data)


# --- a person's own applications ------------------------------------------------------------


def _idempotency_key(request: Request) -> str:
    key = (request.headers.get("Idempotency-Key") or "").strip()
    if not key:
        raise IdempotencyKeyMissing(
            _("Send an Idempotency-Key header: 1 to 64 characters you choose, e.g. a UUID.")
        )
    if len(key) > MAX_IDEMPOTENCY_KEY or not all("!" <= char <= "~" for char in key):
        raise IdempotencyKeyInvalid(
            _("The Idempotency-Key must be 1 to 64 visible ASCII characters, e.g. a UUID.")
        )
    return key


def _own_application(request: Request, number: str) -> Application:
    application = cases.application_of(actor=acting_user(request), number=number)
    if application is None:
        raise _not_found()
    # What was submitted at a level of assurance is read and changed only at that level.
    assurance_require(request, application.service.required_assurance)
    return application


def _only_field(files: dict[str, list[UploadedFile]], field: str) -> list[UploadedFile]:
    unexpected = sorted(name for name in files if name != field)
    if unexpected:
        message = _("Send files in the field “%(field)s”.") % {"field": field}
        raise exceptions.ValidationError({name: [message] for name in unexpected})
    return files.get(field, [])


class MyApplicationsView(ApiView):
    permission_classes = [IsApplicant]

    @extend_schema(
        operation_id="me_applications_list",
        summary="My applications, newest first",
        tags=["applications"],
        parameters=[ACCEPT_LANGUAGE, WWW_AUTHENTICATE],
        responses={
            200: ApplicationSummarySerializer(many=True),
            **problems(400, 401, 403),
        },
    )
    def get(self, request: Request) -> Response:
        return self.paginated(
            cases.applications_of(actor=acting_user(request)), ApplicationSummarySerializer
        )

    @extend_schema(
        operation_id="me_applications_create",
        summary="Submit an application",
        description="Answers are checked against the form schema of the service's published "
        "version and files by their content; nothing is kept unless everything is valid. "
        "Send files as multipart/form-data, with the JSON in the payload field and each file "
        "in a field named by its attachment requirement code. The answer is the application's "
        "number, status and deadline; the whole application is at the Location.",
        tags=["applications"],
        parameters=[IDEMPOTENCY_KEY, ACCEPT_LANGUAGE, LOCATION, WWW_AUTHENTICATE],
        request={
            "application/json": SubmissionSerializer,
            "multipart/form-data": OpenApiRequest(SubmissionMultipartSerializer),
        },
        responses={
            200: ApplicationSummarySerializer,
            201: ApplicationSummarySerializer,
            **problems(400, 401, 403, 409, 413, 415),
        },
    )
    def post(self, request: Request) -> Response:
        key = _idempotency_key(request)
        body, files = body_and_files(request)
        actor = acting_user(request)
        submission = SubmissionSerializer(data=body, context={"actor": actor})
        submission.is_valid(raise_exception=True)
        service = submission.validated_data["service"]
        assurance_require(request, service.required_assurance)
        version = getattr(service, "version_to_apply", None) or (
            catalog.service_version_to_apply_with(service=service)
        )
        if version is None:
            raise case_services.NotAllowed(
                _("This service cannot be applied for online at the moment.")
            )
        application, created = case_services.application_submit(
            applicant=actor,
            version=version,
            data=submission.validated_data["answers"],
            idempotency_key=key,
            language=_language(),
            uploads=files,
            on_behalf_unp=submission.validated_data["on_behalf_unp"],
            signature=submission.validated_data.get("signature"),
        )
        # The number, status and deadline; the whole application is at the Location.
        data = ApplicationSummarySerializer(application).data
        if not created:
            return Response(data, status=status.HTTP_200_OK)
        location = reverse("api:my-application", kwargs={"number": application.number})
        return Response(
            data,
            status=status.HTTP_201_CREATED,
            headers={"Location": request.build_absolute_uri(location)},
        )


class MyApplicationView(ApiView):
    permission_classes = [IsApplicant]

    @extend_schema(
        operation_id="me_applications_retrieve",
        summary="One of my applications",
        tags=["applications"],
        parameters=[ACCEPT_LANGUAGE, WWW_AUTHENTICATE],
        responses={200: ApplicationDetailSerializer, **problems(401, 403, 404)},
    )
    def get(self, request: Request, number: str) -> Response:
        return Response(ApplicationDetailSerializer(_own_application(request, number)).data)


class MyApplicationWithdrawView(ApiView):
    permission_classes = [IsApplicant]

    @extend_schema(
        operation_id="me_applications_withdraw",
        summary="Withdraw my application",
        tags=["applications"],
        parameters=[ACCEPT_LANGUAGE, WWW_AUTHENTICATE],
        request={"application/json": WithdrawSerializer, "multipart/form-data": WithdrawSerializer},
        responses={
            200: ApplicationDetailSerializer,
            **problems(400, 401, 403, 404, 409, 413, 415),
        },
    )
    def post(self, request: Request, number: str) -> Response:
        application = _own_application(request, number)
        body, _files = body_and_files(request)
        withdrawal = WithdrawSerializer(data=body)
        withdrawal.is_valid(raise_exception=True)
        application = case_services.application_withdraw(
            actor=acting_user(request),
            application_id=application.pk,
            comment=withdrawal.validated_data["comment"],
        )
        return Response(ApplicationDetailSerializer(application).data)


class MyApplicationAnswerView(ApiView):
    permission_classes = [IsApplicant]

    @extend_schema(
        operation_id="me_applications_answer",
        summary="Answer the agency's request for information",
        tags=["applications"],
        parameters=[ACCEPT_LANGUAGE, WWW_AUTHENTICATE],
        request={
            "application/json": AnswerSerializer,
            "multipart/form-data": AnswerMultipartSerializer,
        },
        responses={200: ApplicationDetailSerializer, **problems(400, 401, 403, 404, 413, 415)},
    )
    def post(self, request: Request, number: str) -> Response:
        application = _own_application(request, number)
        body, files = body_and_files(request)
        answer = AnswerSerializer(data=body)
        answer.is_valid(raise_exception=True)
        application = case_services.information_answer(
            actor=acting_user(request),
            application_id=application.pk,
            answer=answer.validated_data["answer"],
            uploads=_only_field(files, ANSWER_FILES_FIELD),
        )
        return Response(ApplicationDetailSerializer(application).data)


# --- an agency's cases ----------------------------------------------------------------------


def _agency_case(request: Request, number: str) -> Application:
    application = cases.case_of(actor=acting_user(request), number=number)
    if application is None:
        raise _not_found()
    return application


def _case_response(request: Request, application: Application) -> Response:
    context = {"actor": acting_user(request)}
    return Response(CaseDetailSerializer(application, context=context).data)


class CaseListView(ApiView):
    permission_classes = [IsOfficial]

    @extend_schema(
        operation_id="agency_cases_list",
        summary="The agency's queue, soonest deadline first",
        tags=["cases"],
        parameters=[CaseFilterSerializer, ACCEPT_LANGUAGE, WWW_AUTHENTICATE],
        responses={200: CaseSummarySerializer(many=True), **problems(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        filters = CaseFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        queue = cases.case_queue(
            actor=acting_user(request), filters=cases.QueueFilter(**filters.validated_data)
        )
        return self.paginated(queue, CaseSummarySerializer)


class CaseView(ApiView):
    permission_classes = [IsOfficial]

    @extend_schema(
        operation_id="agency_cases_retrieve",
        summary="A case of the agency",
        tags=["cases"],
        parameters=[ACCEPT_LANGUAGE, WWW_AUTHENTICATE],
        responses={200: CaseDetailSerializer, **problems(401, 403, 404)},
    )
    def get(self, request: Request, number: str) -> Response:
        return _case_response(request, _agency_case(request, number))


class CaseClaimView(ApiView):
    permission_classes = [IsOfficial]

    @extend_schema(
        operation_id="agency_cases_claim",
        summary="Take the case into work",
        tags=["cases"],
        parameters=[ACCEPT_LANGUAGE, WWW_AUTHENTICATE],
        request=None,
        responses={200: CaseDetailSerializer, **problems(401, 403, 404)},
    )
    def post(self, request: Request, number: str) -> Response:
        application = _agency_case(request, number)
        application = case_services.case_claim(
            actor=acting_user(request), application_id=application.pk
        )
        return _case_response(request, application)


class CaseTransitionView(ApiView):
    permission_classes = [IsOfficial]

    @extend_schema(
        operation_id="agency_cases_transition",
        summary="Fire a transition of the case's workflow",
        description="The transition must be one of available_actions with allowed true; "
        "otherwise the answer is a 409 problem whose detail gives the reason.",
        tags=["cases"],
        parameters=[ACCEPT_LANGUAGE, WWW_AUTHENTICATE],
        request={"application/json": TransitionSerializer},
        responses={200: CaseDetailSerializer, **problems(400, 401, 403, 404, 409, 413, 415)},
    )
    def post(self, request: Request, number: str) -> Response:
        application = _agency_case(request, number)
        fire = TransitionSerializer(data=request.data)
        fire.is_valid(raise_exception=True)
        application = case_services.transition_fire(
            application_id=application.pk,
            transition_code=fire.validated_data["transition"],
            actor=acting_user(request),
            comment=fire.validated_data["comment"],
        )
        return _case_response(request, application)


# --- everything else ------------------------------------------------------------------------


@extend_schema(exclude=True)
class NotFoundView(ApiView):
    """Any other address under /api/v1/: a 404 problem for every method, never an HTML page."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        raise _not_found()
