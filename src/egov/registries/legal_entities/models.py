"""The legal entities register: companies and sole traders, their status and directors."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from egov.registries.addresses.models import Address
from egov.registries.shared.models import DataAccessBase, EventBase


class LegalForm(models.TextChoices):
    LLC = "llc", _("limited liability company")
    JSC = "jsc", _("joint-stock company")
    UNITARY = "unitary", _("private unitary enterprise")
    SOLE_TRADER = "sole_trader", _("sole trader")


class EntityStatus(models.TextChoices):
    ACTIVE = "active", _("active")
    LIQUIDATING = "liquidating", _("being liquidated")
    LIQUIDATED = "liquidated", _("liquidated")


class LegalEntity(models.Model):
    unp = models.CharField(_("payer account number (УНП)"), max_length=9, unique=True)
    name_be = models.CharField(_("name (Belarusian)"), max_length=300)
    name_ru = models.CharField(_("name (Russian)"), max_length=300)
    short_name_be = models.CharField(_("short name (Belarusian)"), max_length=200)
    short_name_ru = models.CharField(_("short name (Russian)"), max_length=200)
    legal_form = models.CharField(_("legal form"), max_length=16, choices=LegalForm.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=EntityStatus.choices, default=EntityStatus.ACTIVE
    )
    address = models.ForeignKey(
        Address, verbose_name=_("address"), on_delete=models.PROTECT, related_name="+"
    )
    registered_on = models.DateField(_("registered on"))

    class Meta:
        verbose_name = _("legal entity")
        verbose_name_plural = _("legal entities")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.unp} {self.short_name_be}"


class Director(models.Model):
    """Who heads the entity (for a sole trader: the trader), from a date until a date (or now).
    The person is named by identification number: the register does not depend on the
    population register being reachable."""

    entity = models.ForeignKey(
        LegalEntity,
        verbose_name=_("legal entity"),
        on_delete=models.CASCADE,
        related_name="directors",
    )
    personal_number = models.CharField(_("identification number"), max_length=14, db_index=True)
    full_name = models.CharField(_("full name"), max_length=300)
    since = models.DateField(_("since"))
    until = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("director")
        verbose_name_plural = _("directors")
        ordering = ["entity", "since", "id"]

    def __str__(self) -> str:
        return f"{self.personal_number} {self.full_name}"


class DataAccess(DataAccessBase):
    class Meta(DataAccessBase.Meta):
        verbose_name = _("access to personal data")
        verbose_name_plural = _("accesses to personal data")
        indexes = [models.Index(fields=["subject", "-at"], name="entities_access_subject")]


class EventType(models.TextChoices):
    COMPANY_REGISTERED = "company_registered", _("company registered")


class Event(EventBase):
    type = models.CharField(_("type"), max_length=32, choices=EventType.choices)

    class Meta(EventBase.Meta):
        verbose_name = _("event")
        verbose_name_plural = _("events")
