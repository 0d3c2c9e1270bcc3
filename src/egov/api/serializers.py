"""What the API's resources look like on the wire, in and out.

Output serializers only render what a selector or service returned; they hold no business
rules. Text a person reads comes in the request's language (``Accept-Language``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from egov.cases.answers import MAX_TEXT
from egov.cases.models import (
    ActorRole,
    Application,
    ApplicationEvent,
    Outcome,
    StateKind,
)
from egov.cases.selectors import comment_for_applicant, deadline_status
from egov.cases.services import ApplicationInvalid
from egov.cases.signatures import MAX_CMS_BYTES, signature_required, signature_submission_parse
from egov.cases.workflow import state_label, transitions_available, workflow_of
from egov.catalog import selectors as catalog
from egov.catalog.definitions import Workflow, text
from egov.catalog.models import Audience, ServiceVersion
from egov.identity.models import LevelOfAssurance


def codes(values: Iterable[str]) -> list[tuple[str, str]]:
    """Choices labelled by their codes: the OpenAPI document lists them, and it must read the
    same whatever language it is built in."""
    return [(value, value) for value in values]


DEADLINE_STATUSES = codes(["ok", "soon", "overdue", "paused", "closed"])
CONTENT_TYPES = codes(["application/pdf", "image/jpeg", "image/png"])
WIDGETS = codes(
    [
        "text",
        "textarea",
        "number",
        "email",
        "tel",
        "date",
        "personal_number",
        "radios",
        "select",
        "checkboxes",
        "yes_no",
    ]
)
#: At most this many answers in one submission: the largest form has a few dozen fields.
MAX_ANSWERS = 200


def language() -> str:
    return translation.get_language() or settings.LANGUAGE_CODE


class NullableObject(serializers.Field):
    """One object rendered by ``serializer_class``, or null.

    drf-spectacular documents a nullable nested serializer as ``allOf`` plus ``nullable``,
    which OpenAPI 3.0 validators reject for null (``nullable`` does not reach into ``allOf``);
    ``egov.api.schema`` documents this field as ``oneOf`` the object or null instead."""

    def __init__(self, serializer_class: type[serializers.Serializer], **kwargs: Any) -> None:
        self.serializer_class = serializer_class
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> Any:
        return self.serializer_class(value, context=self.context).data


# --- problems -------------------------------------------------------------------------------


@extend_schema_field(
    {
        "type": "object",
        "description": "Messages by field name (a form answer, an attachment requirement or a "
        "body field); non_field_errors for the body as a whole.",
        "additionalProperties": {
            "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
        },
    }
)
class FieldErrorsField(serializers.DictField):
    pass


class ProblemSerializer(serializers.Serializer):
    """An RFC 9457 problem (application/problem+json)."""

    type = serializers.CharField(help_text="A URI naming the kind of problem.")
    title = serializers.CharField(help_text="A short summary in the request's language.")
    status = serializers.IntegerField(help_text="The HTTP status code.")
    code = serializers.CharField(help_text="A stable code another system can act on.")
    detail = serializers.CharField(help_text="What happened and what to do, for a person.")
    errors = FieldErrorsField(required=False)


# --- catalogue ------------------------------------------------------------------------------


class AgencyRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class ServiceRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class ServiceSummarySerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    summary = serializers.CharField()
    agency = AgencyRefSerializer()
    audience = serializers.ChoiceField(choices=codes(Audience.values))
    fee_base_units = serializers.DecimalField(
        max_digits=6, decimal_places=2, help_text="The fee in base units; 0 means free."
    )
    max_processing_days = serializers.IntegerField(
        help_text="The longest processing time in working days; 0 means the same day."
    )
    required_assurance = serializers.ChoiceField(choices=codes(LevelOfAssurance.values))
    can_apply_online = serializers.BooleanField()


class OptionSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()


class FormFieldSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The property of the answers object.")
    widget = serializers.ChoiceField(choices=WIDGETS)
    label = serializers.CharField()
    hint = serializers.CharField(allow_blank=True)
    required = serializers.BooleanField(
        help_text="Always required; fields that depend on other answers are required by the "
        "schema's conditions."
    )
    options = OptionSerializer(many=True)
    error_message = serializers.CharField(
        allow_blank=True, help_text="The message for an answer that does not match the pattern."
    )


class FormStepSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    hint = serializers.CharField(allow_blank=True)
    fields = FormFieldSerializer(many=True)


class AttachmentRequirementSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="The multipart field name to send these files in.")
    label = serializers.CharField()
    hint = serializers.CharField(allow_blank=True)
    content_types = serializers.ListField(child=serializers.ChoiceField(choices=CONTENT_TYPES))
    max_size_mb = serializers.FloatField()
    min_files = serializers.IntegerField()
    max_files = serializers.IntegerField()


class ApplicationFormSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="The published version of the definition.")
    deadline_working_days = serializers.IntegerField()
    signature_required = serializers.BooleanField(
        help_text="The submission must carry the applicant's e-ID signature (signature)."
    )
    schema = serializers.DictField(
        help_text="JSON Schema (2020-12) the answers object must meet, conditions included."
    )
    steps = FormStepSerializer(many=True)
    attachments = AttachmentRequirementSerializer(many=True)


def application_form(version: ServiceVersion, lang: str) -> dict[str, Any]:
    """The parts of a definition a client needs to build the form, its texts in one
    language. The workflow stays inside the platform."""
    definition = version.definition
    form = definition["form"]
    required = set(form["schema"].get("required", []))
    return {
        "version": version.number,
        "deadline_working_days": definition["deadline_working_days"],
        "signature_required": signature_required(definition),
        "schema": form["schema"],
        "steps": [
            {
                "code": step["code"],
                "title": text(step["title"], lang),
                "hint": text(step.get("hint"), lang),
                "fields": [
                    {
                        "name": field["name"],
                        "widget": field["widget"],
                        "label": text(field["label"], lang),
                        "hint": text(field.get("hint"), lang),
                        "required": field["name"] in required,
                        "options": [
                            {"value": option["value"], "label": text(option["label"], lang)}
                            for option in field.get("options", [])
                        ],
                        "error_message": text(field.get("error"), lang),
                    }
                    for field in step["fields"]
                ],
            }
            for step in form["steps"]
        ],
        "attachments": [
            {
                "code": rule["code"],
                "label": text(rule["label"], lang),
                "hint": text(rule.get("hint"), lang),
                "content_types": rule["content_types"],
                "max_size_mb": float(rule["max_size_mb"]),
                "min_files": int(rule.get("min_files", 0)),
                "max_files": int(rule.get("max_files", 1)),
            }
            for rule in definition.get("attachments", [])
        ],
    }


class ServiceDetailSerializer(ServiceSummarySerializer):
    description = serializers.CharField()
    who_can_apply = serializers.CharField(allow_blank=True)
    documents = serializers.ListField(
        source="document_list", child=serializers.CharField(), help_text="Documents to present."
    )
    result = serializers.CharField(allow_blank=True)
    legal_basis = serializers.CharField(allow_blank=True)
    fee_note = serializers.CharField(allow_blank=True)
    processing_note = serializers.CharField(allow_blank=True)
    application_form = serializers.SerializerMethodField(
        help_text="The form of the published version; null when the service cannot be applied "
        "for online."
    )

    @extend_schema_field(NullableObject(ApplicationFormSerializer))
    def get_application_form(self, service: Any) -> dict[str, Any] | None:
        version = self.context.get("version")
        if version is None:
            return None
        return ApplicationFormSerializer(application_form(version, language())).data


class CatalogueFilterSerializer(serializers.Serializer):
    agency = serializers.CharField(
        required=False, max_length=10, help_text="Only services of this agency (its code)."
    )
    audience = serializers.ChoiceField(choices=codes(Audience.values), required=False)

    def validate_agency(self, value: str) -> Any:
        agency = catalog.agency_get(code=value)
        if agency is None:
            raise serializers.ValidationError(_("There is no agency with this code."))
        return agency


# --- applications: shared parts -------------------------------------------------------------


class AttachmentSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    requirement = serializers.CharField(
        allow_blank=True,
        help_text="The attachment requirement; empty for files sent with an answer.",
    )
    name = serializers.CharField(source="original_name")
    content_type = serializers.CharField(help_text="Decided by the content, not the name.")
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    uploaded_at = serializers.DateTimeField(source="created_at")


class OpenInformationRequestSerializer(serializers.Serializer):
    question = serializers.CharField()
    requested_at = serializers.DateTimeField()
    answer_by = serializers.DateField()


class InformationRequestSerializer(OpenInformationRequestSerializer):
    answer = serializers.CharField(allow_blank=True)
    answered_at = serializers.DateTimeField(allow_null=True)


class PersonRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="full_name")


class EventSerializer(serializers.Serializer):
    """One line of the history, as the applicant sees it."""

    sequence = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=codes(ApplicationEvent.Kind.values))
    created_at = serializers.DateTimeField()
    transition = serializers.CharField(allow_blank=True)
    from_state = serializers.CharField(allow_blank=True)
    to_state = serializers.CharField(allow_blank=True)
    to_state_label = serializers.SerializerMethodField()
    actor_role = serializers.ChoiceField(choices=codes(ActorRole.values))
    comment = serializers.SerializerMethodField()

    @property
    def workflow(self) -> Workflow:
        return self.context["workflow"]

    def get_to_state_label(self, event: ApplicationEvent) -> str:
        if event.to_state not in self.workflow.states:
            return ""
        return state_label(self.workflow, event.to_state, language())

    def get_comment(self, event: ApplicationEvent) -> str:
        return comment_for_applicant(event, self.workflow)


class CaseEventSerializer(EventSerializer):
    """One line of the history, as the agency sees it: who did it and everything they wrote."""

    actor = NullableObject(PersonRefSerializer, help_text="Null for the system.")

    def get_comment(self, event: ApplicationEvent) -> str:
        return event.comment


class ApplicationSummarySerializer(serializers.Serializer):
    number = serializers.CharField()
    service = ServiceRefSerializer()
    state = serializers.CharField()
    state_label = serializers.SerializerMethodField()
    state_kind = serializers.ChoiceField(choices=codes(StateKind.values))
    outcome = serializers.SerializerMethodField()
    submitted_at = serializers.DateTimeField()
    deadline = serializers.DateField()
    deadline_status = serializers.SerializerMethodField()

    def get_state_label(self, application: Application) -> str:
        return state_label(workflow_of(application), application.state, language())

    @extend_schema_field(serializers.ChoiceField(choices=codes(Outcome.values), allow_null=True))
    def get_outcome(self, application: Application) -> str | None:
        return application.outcome or None

    @extend_schema_field(serializers.ChoiceField(choices=DEADLINE_STATUSES))
    def get_deadline_status(self, application: Application) -> str:
        return deadline_status(application)


class _DetailParts(serializers.Serializer):
    agency = AgencyRefSerializer()
    on_behalf_unp = serializers.CharField(
        allow_blank=True, help_text="The organisation applied for (УНП), if any."
    )
    answers = serializers.DictField(source="data")
    decided_at = serializers.DateTimeField(allow_null=True)
    decision = serializers.CharField(source="decision_text", allow_blank=True)
    attachments = AttachmentSerializer(many=True, source="attachments.all")


class ApplicationDetailSerializer(ApplicationSummarySerializer, _DetailParts):
    information_request = serializers.SerializerMethodField(
        help_text="The agency's open question to the applicant, if any."
    )
    history = serializers.SerializerMethodField()

    @extend_schema_field(NullableObject(OpenInformationRequestSerializer))
    def get_information_request(self, application: Application) -> dict[str, Any] | None:
        request = application.information_requests.filter(answered_at__isnull=True).first()
        return OpenInformationRequestSerializer(request).data if request else None

    @extend_schema_field(EventSerializer(many=True))
    def get_history(self, application: Application) -> list[Any]:
        context = {"workflow": workflow_of(application)}
        return EventSerializer(application.events.all(), many=True, context=context).data


# --- applications: input -------------------------------------------------------------------


class SubmissionSignatureSerializer(serializers.Serializer):
    """The applicant's signature, as the e-ID signer returns it (ADR 0010)."""

    cms = serializers.CharField(
        max_length=MAX_CMS_BYTES * 4 // 3 + 4,
        help_text="Base64 of the DER CMS SignedData, detached, whose messageDigest is the "
        "SHA-256 of the canonical JSON (sorted keys, no spaces, UTF-8 with characters "
        "unescaped) of {service, version, "
        "answers, attachments: [{code, name, sha256}]}: the service's code, the published "
        "version of application_form, the answers the form has and each file's requirement "
        "code, file name and SHA-256 (hex), the files sorted by code, name and hash.",
    )
    certificate = serializers.CharField(
        max_length=MAX_CMS_BYTES,
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        help_text="The signer's certificate (PEM), unless the CMS includes it.",
    )
    chain = serializers.CharField(
        max_length=MAX_CMS_BYTES,
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        help_text="The certificates between it and the platform's root (PEM).",
    )

    def validate(self, attrs: Mapping[str, Any]) -> Any:
        # What cannot be decoded is refused here, with the portal's translated messages.
        return signature_submission_parse(
            cms_base64=attrs["cms"],
            certificate_pem=attrs.get("certificate", ""),
            chain_pem=attrs.get("chain", ""),
        )


class SubmissionSerializer(serializers.Serializer):
    service = serializers.CharField(max_length=32, help_text="The service's code.")
    answers = serializers.DictField(
        help_text="Answers by field name, as the service's form schema describes them."
    )
    on_behalf_unp = serializers.CharField(
        max_length=9,
        required=False,
        allow_blank=True,
        default="",
        help_text="For business services: the УНП of the organisation applied for.",
    )
    signature = SubmissionSignatureSerializer(
        required=False,
        help_text="Required where the service's application_form says signature_required: "
        "the applicant's (or, for an organisation, a director's) e-ID signature over what is "
        "submitted.",
    )

    def validate_service(self, code: str) -> Any:
        service = catalog.service_to_apply_for(code=code, actor=self.context.get("actor"))
        if service is None:
            raise serializers.ValidationError(_("There is no such service in the catalogue."))
        return service

    def validate_answers(self, answers: Mapping[str, Any]) -> Mapping[str, Any]:
        """Bounds that hold for every form, checked before the form's own schema: an answer
        the portal would not accept is not accepted here either."""
        if len(answers) > MAX_ANSWERS:
            raise serializers.ValidationError(
                _("Send no more than %(count)d answers.") % {"count": MAX_ANSWERS}
            )
        too_long = {
            str(name): _("Enter %(count)d characters or fewer.") % {"count": MAX_TEXT}
            for name, value in answers.items()
            if _longest_text(value) > MAX_TEXT
        }
        if too_long:
            raise ApplicationInvalid(too_long)
        return answers


def _longest_text(value: Any, depth: int = 0) -> int:
    if isinstance(value, str):
        return len(value)
    if depth > 3:
        return MAX_TEXT + 1  # no form answer nests this deep
    if isinstance(value, list):
        return max((_longest_text(item, depth + 1) for item in value), default=0)
    if isinstance(value, dict):
        return max(
            (max(len(str(key)), _longest_text(item, depth + 1)) for key, item in value.items()),
            default=0,
        )
    return 0


class SubmissionMultipartSerializer(serializers.Serializer):
    payload = serializers.CharField(
        help_text="The submission as JSON text: {service, answers, on_behalf_unp, signature}."
    )
    files = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        help_text="Send each file in a field named by its attachment requirement code (see "
        "the service's application_form.attachments); this field stands for them.",
    )


class WithdrawSerializer(serializers.Serializer):
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000, trim_whitespace=True
    )


class AnswerSerializer(serializers.Serializer):
    answer = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=MAX_TEXT,
        help_text="The answer to the agency's question.",
    )


class AnswerMultipartSerializer(AnswerSerializer):
    files = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        help_text="Up to 5 PDF, JPG or PNG files of at most 10 MB, each in a field named files.",
    )


# --- cases ----------------------------------------------------------------------------------


class CaseSummarySerializer(ApplicationSummarySerializer):
    applicant_name = serializers.CharField(source="applicant.full_name")
    assignee = NullableObject(PersonRefSerializer, help_text="Null while nobody works on it.")


class ApplicantSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="full_name")
    personal_number = serializers.CharField(allow_null=True)
    email = serializers.EmailField()


class InternalNoteSerializer(serializers.Serializer):
    author = PersonRefSerializer()
    text = serializers.CharField()
    created_at = serializers.DateTimeField()


class ActionSerializer(serializers.Serializer):
    transition = serializers.CharField(source="transition.code")
    label = serializers.SerializerMethodField()
    allowed = serializers.BooleanField()
    reason = serializers.CharField(allow_blank=True, help_text="Why it is not allowed now.")
    comment_required = serializers.SerializerMethodField()

    def get_label(self, check: Any) -> str:
        return text(check.transition.label, language())

    def get_comment_required(self, check: Any) -> bool:
        return "comment_required" in check.transition.guards


class CaseDetailSerializer(CaseSummarySerializer, _DetailParts):
    applicant = ApplicantSerializer()
    information_requests = InformationRequestSerializer(
        many=True, source="information_requests.all"
    )
    internal_notes = InternalNoteSerializer(many=True, source="internal_notes.all")
    history = serializers.SerializerMethodField()
    available_actions = serializers.SerializerMethodField(
        help_text="What the calling official could do now, and why not where not."
    )

    @extend_schema_field(CaseEventSerializer(many=True))
    def get_history(self, application: Application) -> list[Any]:
        context = {"workflow": workflow_of(application)}
        events = application.events.select_related("actor")
        return CaseEventSerializer(events, many=True, context=context).data

    @extend_schema_field(ActionSerializer(many=True))
    def get_available_actions(self, application: Application) -> list[Any]:
        checks = transitions_available(application=application, actor=self.context["actor"])
        return ActionSerializer(checks, many=True).data


class CaseFilterSerializer(serializers.Serializer):
    service = serializers.CharField(required=False, max_length=32, help_text="A service code.")
    state = serializers.CharField(required=False, max_length=50, help_text="A state code.")
    due = serializers.ChoiceField(
        choices=codes(["overdue", "soon"]),
        required=False,
        help_text="overdue: past the deadline; soon: due within two working days.",
    )
    assigned = serializers.ChoiceField(choices=codes(["me", "unassigned"]), required=False)
    closed = serializers.BooleanField(
        required=False, default=False, help_text="true: only closed cases; else open ones."
    )


class TransitionSerializer(serializers.Serializer):
    transition = serializers.CharField(max_length=50, help_text="A code from available_actions.")
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=MAX_TEXT
    )
