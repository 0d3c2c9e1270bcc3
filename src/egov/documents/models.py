"""Documents the platform issues for applications: decisions, refusals, extracts, receipts.

A document is asked for by the workflow (``issue_document``) in the transition's transaction
and exists at once as "being signed"; the worker renders and signs it (PAdES B-LT) and only
then does it get its file, its digest and its signer. Once signed a row never changes.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from egov.cases.models import Application


class DocumentKind(models.TextChoices):
    DECISION = "decision", _("Decision")
    REFUSAL = "refusal", _("Refusal")
    EXTRACT = "extract", _("Extract")
    RECEIPT = "receipt", _("Receipt")


class DocumentStatus(models.TextChoices):
    PENDING = "pending", _("Being signed")
    SIGNED = "signed", _("Signed")


class Signatory(models.TextChoices):
    AGENCY = "agency", _("The agency")
    OFFICIAL = "official", _("The deciding official")


def document_path(instance: IssuedDocument, filename: str) -> str:
    """Stored names are random: nothing about the person or the case is in a path."""
    return f"documents/{instance.created_at:%Y/%m}/{uuid.uuid4().hex}.pdf"


class IssuedDocument(models.Model):
    application = models.ForeignKey(
        Application,
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="issued_documents",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=DocumentKind.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=DocumentStatus.choices, default=DocumentStatus.PENDING
    )
    number = models.CharField(_("document number"), max_length=40, unique=True)
    #: What the holder types on /verify (Crockford base32, 80 random bits), without dashes.
    verification_code = models.CharField(_("verification code"), max_length=16, unique=True)
    language = models.CharField(_("language"), max_length=5)
    signatory = models.CharField(
        _("signatory"), max_length=16, choices=Signatory.choices, default=Signatory.AGENCY
    )
    #: The official who took the decision (the signer when ``signatory`` is ``official``).
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    transition = models.CharField(max_length=50, blank=True)
    file = models.FileField(upload_to=document_path, max_length=200, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    signatory_name = models.CharField(_("signatory"), max_length=300, blank=True)
    signatory_role = models.CharField(_("role"), max_length=300, blank=True)
    signer_fingerprint = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    issued_at = models.DateTimeField(_("issued"), null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    #: Why the last signing attempt failed (a stable code, never personal data).
    last_error = models.CharField(max_length=200, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("issued document")
        verbose_name_plural = _("issued documents")
        ordering = ["application", "created_at", "pk"]
        constraints = [
            # The workflow asks once per transition; a retried task finds the same row.
            models.UniqueConstraint(
                fields=["application", "kind", "transition"], name="one_document_per_step"
            ),
            models.CheckConstraint(
                name="signed_has_file",
                condition=~Q(status="signed") | (~Q(sha256="") & Q(issued_at__isnull=False)),
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def code_display(self) -> str:
        """The code in groups of four, as printed under the QR code."""
        code = self.verification_code
        return "-".join(code[i : i + 4] for i in range(0, len(code), 4))
