"""The service catalogue: who provides what, for whom, on what terms.

Text fields a person reads are translated (be/ru/en) by django-modeltranslation, see
``translation.py``; each gets ``<field>_be``, ``<field>_ru`` and ``<field>_en`` columns.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from egov.core.models import TimeStampedModel
from egov.identity.models import LevelOfAssurance

agency_code_validator = RegexValidator(
    r"^[A-Z][A-Z0-9]{1,9}$", _("Use 2–10 capital Latin letters or digits, e.g. MVD.")
)
service_code_validator = RegexValidator(
    r"^[0-9A-Za-z][0-9A-Za-z.\-]{0,31}$",
    _("Use letters, digits, dots and hyphens, e.g. 200.11.1.1."),
)


class Audience(models.TextChoices):
    CITIZENS = "citizens", _("Citizens")
    BUSINESSES = "businesses", _("Businesses")


class Agency(TimeStampedModel):  # type: ignore[django-manager-missing]
    code = models.CharField(
        _("code"), max_length=10, unique=True, validators=[agency_code_validator]
    )
    name = models.CharField(_("name"), max_length=300)
    short_name = models.CharField(_("short name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    email = models.EmailField(_("email"), blank=True)
    website = models.URLField(_("website"), blank=True)

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        ordering = ["code"]

    def __str__(self) -> str:
        return str(self.short_name or self.name)


class Category(TimeStampedModel):  # type: ignore[django-manager-missing]
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["position", "slug"]

    def __str__(self) -> str:
        return str(self.name)


class LifeEvent(TimeStampedModel):  # type: ignore[django-manager-missing]
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    audience = models.CharField(
        _("audience"), max_length=16, choices=Audience.choices, default=Audience.CITIZENS
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("life event")
        verbose_name_plural = _("life events")
        ordering = ["position", "slug"]

    def __str__(self) -> str:
        return str(self.name)


class Maturity(models.TextChoices):
    """How far a service can be done online, from reading about it to receiving it unasked."""

    INFORMATION = "information", _("Information only")
    DOWNLOADABLE_FORM = "form", _("Downloadable form")
    ONLINE_APPLICATION = "online", _("Online application")
    FULLY_ONLINE = "full", _("Fully online")
    PROACTIVE = "proactive", _("Proactive")


class Service(TimeStampedModel):  # type: ignore[django-manager-missing]
    code = models.CharField(
        _("code"), max_length=32, unique=True, validators=[service_code_validator]
    )
    name = models.CharField(_("name"), max_length=300)
    summary = models.CharField(_("summary"), max_length=500)
    description = models.TextField(_("description"))
    who_can_apply = models.TextField(_("who can apply"), blank=True)
    documents = models.TextField(
        _("documents to present"), blank=True, help_text=_("One document per line.")
    )
    result = models.TextField(_("what you receive"), blank=True)
    legal_basis = models.CharField(_("legal basis"), max_length=500, blank=True)
    fee_note = models.CharField(_("fee details"), max_length=500, blank=True)
    processing_note = models.CharField(_("processing time details"), max_length=500, blank=True)

    audience = models.CharField(
        _("audience"), max_length=16, choices=Audience.choices, default=Audience.CITIZENS
    )
    agency = models.ForeignKey(
        Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="services"
    )
    categories = models.ManyToManyField(
        Category, verbose_name=_("categories"), related_name="services", blank=True
    )
    life_events = models.ManyToManyField(
        LifeEvent, verbose_name=_("life events"), related_name="services", blank=True
    )
    fee_base_units = models.DecimalField(
        _("fee in base units"),
        max_digits=6,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("0 means free of charge."),
    )
    max_processing_days = models.PositiveSmallIntegerField(
        _("maximum processing time in working days"),
        help_text=_("0 means the same day."),
    )
    required_assurance = models.CharField(
        _("required level of assurance"),
        max_length=16,
        choices=LevelOfAssurance.choices,
        default=LevelOfAssurance.LOW,
    )
    maturity = models.CharField(
        _("online maturity"), max_length=16, choices=Maturity.choices, default=Maturity.INFORMATION
    )
    is_published = models.BooleanField(_("published"), default=True)
    popularity = models.PositiveIntegerField(
        _("popularity"), default=0, help_text=_("Higher comes first in lists.")
    )

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["-popularity", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_free(self) -> bool:
        return self.fee_base_units == 0

    @property
    def can_apply_online(self) -> bool:
        return self.maturity in (
            Maturity.ONLINE_APPLICATION,
            Maturity.FULLY_ONLINE,
            Maturity.PROACTIVE,
        )

    @property
    def document_list(self) -> list[str]:
        return [line.strip(" -•\t") for line in (self.documents or "").splitlines() if line.strip()]


class BaseUnit(models.Model):
    """The base unit (базовая величина) in force from a date; fees are set in base units."""

    valid_from = models.DateField(_("valid from"), unique=True)
    amount = models.DecimalField(_("amount, BYN"), max_digits=8, decimal_places=2)
    legal_act = models.CharField(_("legal act"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("base unit")
        verbose_name_plural = _("base units")
        ordering = ["-valid_from"]

    def __str__(self) -> str:
        return f"{self.amount} BYN ({self.valid_from:%d.%m.%Y})"


class SearchEntry(models.Model):
    """A service's searchable text in one language, already normalised and stemmed.

    Stemming happens in Python (Snowball for Russian and English, a light suffix stripper for
    Belarusian, for which PostgreSQL has no dictionary) so both databases rank alike; see
    ``docs/adr/0002-search-stemming-in-python.md``. PostgreSQL searches these columns with
    tsvector/tsquery, SQLite through the FTS5 table ``catalog_search_fts`` that mirrors them.
    """

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="search_entries")
    language = models.CharField(max_length=5)
    title = models.TextField()
    body = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "language"], name="one_entry_per_language")
        ]

    def __str__(self) -> str:
        return f"{self.service_id}/{self.language}"


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class ServiceVersion(TimeStampedModel):
    """One version of a service's definition (form, documents, workflow, deadline).

    Versions go draft → published → retired and a published or retired definition never
    changes: an application stays on the version it was submitted with. At most one version
    of a service is published at a time; it is the one people apply with.
    """

    service = models.ForeignKey(
        Service, verbose_name=_("service"), on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=16, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    definition = models.JSONField(_("definition"))
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)
    change_note = models.CharField(_("what changed"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("service version")
        verbose_name_plural = _("service versions")
        ordering = ["service", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["service", "number"], name="version_number_unique"),
            models.UniqueConstraint(
                fields=["service"],
                condition=models.Q(status="published"),
                name="one_published_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service.code} v{self.number} ({self.get_status_display()})"
