"""Applications: what a person submitted, where it stands, and everything that happened to it.

An application is pinned to the service version it was submitted with. Its history is an
append-only list of events numbered 1, 2, 3, ... per application; the state kind (open,
waiting, final) is copied from the workflow so that queues can filter in the database.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from egov.catalog.models import Agency, Service, ServiceVersion
from egov.core.models import TimeStampedModel


class StateKind(models.TextChoices):
    OPEN = "open", _("With the agency")
    WAITING = "waiting", _("Waiting for the applicant")
    FINAL = "final", _("Closed")


class Outcome(models.TextChoices):
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    CLOSED = "closed", _("Closed")


class ActorRole(models.TextChoices):
    APPLICANT = "applicant", _("Applicant")
    CLERK = "clerk", _("Clerk")
    DECISION_MAKER = "decision_maker", _("Decision maker")
    AGENCY_ADMIN = "agency_admin", _("Agency administrator")
    SYSTEM = "system", _("System")


def attachment_path(instance: Attachment, filename: str) -> str:
    """Stored names are random: the person's file name is kept only in the database."""
    return f"attachments/{instance.created_at:%Y/%m}/{uuid.uuid4().hex}"


class Draft(TimeStampedModel):
    """Answers saved as the person goes; becomes an application on submission."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="drafts"
    )
    version = models.ForeignKey(ServiceVersion, on_delete=models.PROTECT, related_name="drafts")
    data = models.JSONField(default=dict)
    completed_steps = models.JSONField(default=list)
    on_behalf_unp = models.CharField(max_length=9, blank=True)
    #: What registers filled in (``egov.cases.registry_data``): ``{"status": "done", "at": ...,
    #: "values": {field: value}, "sources": {field: source}, "message_ids": {source: id}}``;
    #: empty until first tried. A prefilled field keeps the register's value.
    prefill = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("draft")
        verbose_name_plural = _("drafts")
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return f"draft {self.pk}"


class Application(TimeStampedModel):
    number = models.CharField(_("number"), max_length=32, unique=True)
    service = models.ForeignKey(
        Service, verbose_name=_("service"), on_delete=models.PROTECT, related_name="applications"
    )
    version = models.ForeignKey(
        ServiceVersion, on_delete=models.PROTECT, related_name="applications"
    )
    # Both are the first column of a composite index below (the queue, the cabinet), which
    # serves every lookup a single-column index would: one index less to write per submission.
    agency = models.ForeignKey(
        Agency,
        verbose_name=_("agency"),
        on_delete=models.PROTECT,
        related_name="applications",
        db_index=False,
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applicant"),
        on_delete=models.PROTECT,
        related_name="applications",
        db_index=False,
    )
    on_behalf_unp = models.CharField(_("on behalf of (УНП)"), max_length=9, blank=True)
    state = models.CharField(_("state"), max_length=50)
    state_kind = models.CharField(_("state kind"), max_length=16, choices=StateKind.choices)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    data = models.JSONField(_("answers"))
    #: The answers that came from a register, by field: ``{field: source}``.
    prefilled = models.JSONField(_("answers from registers"), default=dict, blank=True)
    language = models.CharField(_("language"), max_length=5)
    submitted_at = models.DateTimeField(_("submitted"))
    deadline = models.DateField(_("deadline"))
    paused_at = models.DateTimeField(_("waiting since"), null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_cases",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_text = models.TextField(_("decision"), blank=True)
    idempotency_key = models.CharField(max_length=64)
    payload_hash = models.CharField(max_length=64)
    history_length = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["-submitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["applicant", "idempotency_key"], name="one_application_per_key"
            ),
            models.CheckConstraint(
                name="final_has_outcome",
                condition=~Q(state_kind="final") | ~Q(outcome=""),
            ),
        ]
        indexes = [
            models.Index(fields=["agency", "state_kind", "deadline"], name="queue_idx"),
            models.Index(fields=["applicant", "-submitted_at"], name="cabinet_idx"),
        ]

    def __str__(self) -> str:
        return self.number


class ApplicationEvent(models.Model):
    """One line of an application's history. Never edited."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        TRANSITION = "transition", _("Status changed")
        CLAIMED = "claimed", _("Taken into work")
        ASSIGNED = "assigned", _("Assigned")
        ANSWERED = "answered", _("Information provided")
        RATED = "rated", _("Rated")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    sequence = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    transition = models.CharField(max_length=50, blank=True)
    from_state = models.CharField(max_length=50, blank=True)
    to_state = models.CharField(max_length=50, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    actor_role = models.CharField(max_length=16, choices=ActorRole.choices)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["application", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["application", "sequence"], name="event_sequence")
        ]

    def __str__(self) -> str:
        return f"{self.application_id}#{self.sequence} {self.kind}"


class InformationRequest(models.Model):
    """A question from the agency that the applicant answers in the portal."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="information_requests"
    )
    question = models.TextField(_("question"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    answer_by = models.DateField(_("answer by"))
    answer = models.TextField(_("answer"), blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["application", "requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(answered_at__isnull=True),
                name="one_open_request",
            )
        ]

    def __str__(self) -> str:
        return f"request {self.pk} on {self.application_id}"


class Attachment(models.Model):
    """A file a person uploaded, checked by its content; belongs to a draft, an application
    or an answer to a request for information."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    draft = models.ForeignKey(
        Draft, on_delete=models.SET_NULL, null=True, blank=True, related_name="attachments"
    )
    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    information_request = models.ForeignKey(
        InformationRequest,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="attachments",
    )
    requirement = models.CharField(max_length=50, blank=True)
    file = models.FileField(upload_to=attachment_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.original_name


class InternalNote(models.Model):
    """A note officials of the agency leave on a case; never shown to the applicant."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="internal_notes"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    text = models.TextField(_("note"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["application", "created_at"]

    def __str__(self) -> str:
        return f"note {self.pk}"


class Rating(models.Model):
    application = models.OneToOneField(Application, on_delete=models.CASCADE, related_name="rating")
    score = models.PositiveSmallIntegerField(
        _("score"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(name="score_1_to_5", condition=Q(score__gte=1) & Q(score__lte=5))
        ]

    def __str__(self) -> str:
        return f"{self.score} for {self.application_id}"


class NumberSequence(models.Model):
    """The last application number given per agency and year (MVD-2026-000123)."""

    agency_code = models.CharField(max_length=10)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency_code", "year"], name="one_sequence_per_year")
        ]

    def __str__(self) -> str:
        return f"{self.agency_code}-{self.year}: {self.last}"


class AgencyCasesVersion(models.Model):
    """Counts changes to an agency's cases, bumped after each commit that changes one; the
    back-office queue page is cached under it, so every process sees a change at once."""

    agency_id = models.BigIntegerField(primary_key=True)
    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.agency_id}: {self.version}"


class RegistryCheck(models.Model):
    """Data fetched from a base registry for a case (``fetch_registry_data``) and what it
    showed. Made "pending" with the transition that asks for it; the worker fetches and writes
    the result in one statement, so a check is either pending or complete, never half-written."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Registry check pending")
        PASSED = "passed", _("Passed")
        FAILED = "failed", _("Failed")
        RECORDED = "recorded", _("Data received")

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="registry_checks"
    )
    transition = models.CharField(max_length=50)
    source = models.CharField(_("registry data"), max_length=50)
    check_kind = models.CharField(_("check"), max_length=30, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    #: The official who fired the transition; empty for automatic steps.
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    facts = models.JSONField(_("data received"), default=dict, blank=True)
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    message_id = models.CharField(_("message id"), max_length=64, blank=True)
    checked_at = models.DateTimeField(_("checked"), null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("registry check")
        verbose_name_plural = _("registry checks")
        ordering = ["application", "requested_at", "pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="registry_check_due")]

    def __str__(self) -> str:
        return f"{self.source}:{self.check_kind or '-'} on {self.application_id} ({self.status})"


class ApplicationSignature(models.Model):
    """The applicant's signature of a signed application (``signature: required``): the CMS
    as received, the exact bytes it signs and their SHA-256, kept so that anyone can check it
    again later (``egov.cases.signatures``). Never edited."""

    application = models.OneToOneField(
        Application, on_delete=models.CASCADE, related_name="signature"
    )
    #: DER CMS SignedData, detached: its messageDigest is ``digest``.
    cms = models.BinaryField()
    #: The canonical JSON that was signed (service, version, answers, attachments' hashes).
    signed_content = models.BinaryField()
    digest = models.CharField(_("SHA-256 of the signed content"), max_length=64)
    certificate = models.TextField(_("signer's certificate"))
    chain = models.TextField(blank=True)
    signer_personal_number = models.CharField(_("signer's identification number"), max_length=14)
    signer_name = models.CharField(_("signed by"), max_length=300)
    signed_at = models.DateTimeField(_("signed"))
    #: The certificate's status at signing time, as found on submission ("good").
    certificate_status = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("application signature")
        verbose_name_plural = _("application signatures")

    def __str__(self) -> str:
        return f"signature of {self.application_id}"
