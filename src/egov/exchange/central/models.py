"""The central registry of the exchange: who takes part, which gateway hosts whom, which
services exist and who may call them. Published to the gateways as the signed global
configuration (see ``publication.py``); every change bumps :class:`ConfigurationVersion`."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from egov.exchange.central.validators import (
    address_validator,
    certificate_pem_validator,
    endpoints_validator,
    identifier_validator,
    openapi_validator,
)

INSTANCE = "BY"


class MemberClass(models.TextChoices):
    GOV = "GOV", _("Government")
    COM = "COM", _("Commercial")
    NGO = "NGO", _("Non-governmental organisation")


class Member(models.Model):
    instance = models.CharField(_("instance"), max_length=16, default=INSTANCE, editable=False)
    member_class = models.CharField(
        _("member class"), max_length=3, choices=MemberClass.choices, default=MemberClass.GOV
    )
    member_code = models.CharField(
        _("member code"), max_length=64, validators=[identifier_validator]
    )
    name = models.CharField(_("name"), max_length=300)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["member_class", "member_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["instance", "member_class", "member_code"], name="exchange_member_unique"
            )
        ]

    def __str__(self) -> str:
        return self.identifier

    @property
    def identifier(self) -> str:
        return f"{self.instance}/{self.member_class}/{self.member_code}"


class Gateway(models.Model):
    code = models.CharField(
        _("code"), max_length=64, unique=True, validators=[identifier_validator]
    )
    owner = models.ForeignKey(
        Member, models.PROTECT, related_name="gateways", verbose_name=_("owner")
    )
    address = models.CharField(
        _("address"),
        max_length=200,
        validators=[address_validator],
        help_text=_("Where other gateways reach its provider side, e.g. https://10.0.0.5:8443."),
    )
    tls_certificate = models.TextField(_("TLS certificate"), validators=[certificate_pem_validator])
    signing_certificate = models.TextField(
        _("signing certificate"), validators=[certificate_pem_validator]
    )
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        verbose_name = _("gateway")
        verbose_name_plural = _("gateways")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Subsystem(models.Model):
    member = models.ForeignKey(
        Member, models.CASCADE, related_name="subsystems", verbose_name=_("member")
    )
    code = models.CharField(_("code"), max_length=64, validators=[identifier_validator])
    gateway = models.ForeignKey(
        Gateway,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="subsystems",
        verbose_name=_("gateway"),
        help_text=_("The gateway that hosts this subsystem."),
    )

    class Meta:
        verbose_name = _("subsystem")
        verbose_name_plural = _("subsystems")
        ordering = ["member__member_class", "member__member_code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["member", "code"], name="exchange_subsystem_unique")
        ]

    def __str__(self) -> str:
        return self.identifier

    @property
    def identifier(self) -> str:
        return f"{self.member.identifier}/{self.code}"


class Service(models.Model):
    subsystem = models.ForeignKey(
        Subsystem, models.CASCADE, related_name="services", verbose_name=_("subsystem")
    )
    service_code = models.CharField(
        _("service code"), max_length=64, validators=[identifier_validator]
    )
    title = models.CharField(_("title"), max_length=300)
    personal_data = models.BooleanField(
        _("personal data"),
        default=False,
        help_text=_("Calls must name the person asking and the purpose; each access is logged."),
    )
    endpoints = models.JSONField(
        _("endpoints"),
        default=list,
        blank=True,
        validators=[endpoints_validator],
        help_text=_('For example [{"method": "GET", "path": "/*"}].'),
    )
    openapi = models.TextField(
        _("OpenAPI description"),
        validators=[openapi_validator],
        help_text=_("An OpenAPI 3 document in YAML."),
    )

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = [
            "subsystem__member__member_class",
            "subsystem__member__member_code",
            "subsystem__code",
            "service_code",
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["subsystem", "service_code"], name="exchange_service_unique"
            )
        ]

    def __str__(self) -> str:
        return self.identifier

    @property
    def identifier(self) -> str:
        return f"{self.subsystem.identifier}/{self.service_code}"


class AccessRight(models.Model):
    client = models.ForeignKey(
        Subsystem, models.CASCADE, related_name="access_rights", verbose_name=_("client")
    )
    service = models.ForeignKey(
        Service, models.CASCADE, related_name="access_rights", verbose_name=_("service")
    )

    class Meta:
        verbose_name = _("access right")
        verbose_name_plural = _("access rights")
        constraints = [
            models.UniqueConstraint(fields=["client", "service"], name="exchange_access_unique")
        ]

    def __str__(self) -> str:
        return f"{self.client} → {self.service}"


class ConfigurationVersion(models.Model):
    """One row (pk 1): the serial of the global configuration. Every change of the registry
    increments it in the same transaction, so a published serial names one state."""

    serial = models.PositiveBigIntegerField(_("serial"), default=0)
    changed_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("configuration version")
        verbose_name_plural = _("configuration versions")

    def __str__(self) -> str:
        return str(self.serial)
