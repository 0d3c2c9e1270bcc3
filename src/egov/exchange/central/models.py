"""The central registry of the exchange: who takes part, which gateway hosts whom, how each
client's information system connects, which services exist and who may call them for what.
Published to the gateways as the signed global configuration (see ``publication.py``); every
change bumps :class:`ConfigurationVersion`.

A few fields are local to one gateway and never published: its listen addresses and the
backend URL of each service it provides. ``egov exchange gateway write-config`` writes them
into that gateway's ``gateway.json``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from egov.exchange.central.validators import (
    address_validator,
    backend_url_validator,
    certificate_pem_validator,
    client_certificate_validator,
    endpoints_uncovered,
    endpoints_validator,
    identifier_validator,
    listen_validator,
    openapi_endpoints,
    openapi_validator,
    purpose_code_validator,
)
from egov.trust.pki import fingerprint_sha256, load_certificate


class Instance(models.Model):
    """The X-Road instance this central registry serves: one row, the first part of every
    identifier (``KZ`` in ``KZ/GOV/MVD/population``). Written by ``egov exchange setup`` from
    the exchange description's ``instance``; it cannot change while members exist."""

    code = models.CharField(
        _("instance"), max_length=16, unique=True, validators=[identifier_validator]
    )

    class Meta:
        verbose_name = _("instance")
        verbose_name_plural = _("instance")

    def __str__(self) -> str:
        return self.code


def registry_instance() -> str:
    """The instance of the central registry; "" before ``egov exchange setup`` has set it."""
    return Instance.objects.values_list("code", flat=True).order_by("pk").first() or ""


class MemberClass(models.Model):
    """A member class of the instance (X-Road's GOV, COM, ...), from the exchange description's
    ``member_classes``: members may use only these."""

    code = models.CharField(
        _("code"), max_length=16, unique=True, validators=[identifier_validator]
    )
    description = models.CharField(_("description"), max_length=300)

    class Meta:
        verbose_name = _("member class")
        verbose_name_plural = _("member classes")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.code


def member_class_codes() -> list[str]:
    """The member classes of the instance, in the description's order."""
    return list(MemberClass.objects.order_by("pk").values_list("code", flat=True))


class ConnectionType(models.TextChoices):
    """How a client's information system connects to its gateway's client side (X-Road's
    connection types)."""

    HTTP = "HTTP", _("HTTP: plain HTTP or HTTPS, no client certificate")
    HTTPS_NO_AUTH = "HTTPS_NO_AUTH", _("HTTPS without a client certificate")
    HTTPS = "HTTPS", _("HTTPS with a registered client certificate")


def _connection_type_field() -> models.CharField:
    return models.CharField(
        _("connection type"),
        max_length=16,
        choices=ConnectionType.choices,
        default=ConnectionType.HTTPS,
        help_text=_(
            "HTTPS needs a client certificate registered below; HTTP is for tutorials and "
            "closed networks only."
        ),
    )


class Member(models.Model):
    instance = models.CharField(
        _("instance"), max_length=16, blank=True, default=registry_instance, editable=False
    )
    member_class = models.CharField(
        _("member class"),
        max_length=16,
        default="GOV",
        validators=[identifier_validator],
        help_text=_("One of the instance's member classes, e.g. GOV."),
    )
    member_code = models.CharField(
        _("member code"), max_length=64, validators=[identifier_validator]
    )
    name = models.CharField(_("name"), max_length=300)
    gateway = models.ForeignKey(
        "Gateway",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="member_clients",
        verbose_name=_("gateway"),
        help_text=_(
            "The gateway that hosts this member when it calls services without a subsystem."
        ),
    )
    connection_type = _connection_type_field()

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

    def clean(self) -> None:
        """A member belongs to the registry's instance and one of its member classes."""
        instance = registry_instance()
        if not instance:
            raise ValidationError(
                _(
                    "The central registry has no instance yet: set up the exchange with "
                    "`egov exchange setup --file` first."
                ),
                code="instance",
            )
        if not self.instance:
            self.instance = instance
        if self.instance != instance:
            raise ValidationError(
                _(
                    "This member belongs to the instance %(given)s; the registry serves "
                    "%(instance)s."
                )
                % {"given": self.instance, "instance": instance},
                code="instance",
            )
        classes = member_class_codes()
        if self.member_class and self.member_class not in classes:
            raise ValidationError(
                {
                    "member_class": _(
                        "%(class)s is not a member class of the instance %(instance)s: use one "
                        "of %(classes)s."
                    )
                    % {
                        "class": self.member_class,
                        "instance": instance,
                        "classes": ", ".join(classes) or "-",
                    }
                },
                code="member_class",
            )


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
    client_listen = models.CharField(
        _("client side, HTTP"),
        max_length=100,
        blank=True,
        validators=[listen_validator],
        help_text=_("Where information systems call it over plain HTTP, e.g. 127.0.0.1:8080."),
    )
    client_tls_listen = models.CharField(
        _("client side, HTTPS"),
        max_length=100,
        blank=True,
        validators=[listen_validator],
        help_text=_("Where information systems call it over TLS, e.g. 127.0.0.1:8090."),
    )
    server_listen = models.CharField(
        _("provider side"),
        max_length=100,
        blank=True,
        validators=[listen_validator],
        help_text=_(
            "Where it listens for other gateways, e.g. 0.0.0.0:8443 (the address above is how "
            "they reach it)."
        ),
    )
    health_listen = models.CharField(
        _("health checks"),
        max_length=100,
        blank=True,
        validators=[listen_validator],
        help_text=_(
            "Where it answers GET /healthz and GET /readyz over plain HTTP, e.g. "
            "127.0.0.1:8085; empty: no health checks."
        ),
    )

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
    connection_type = _connection_type_field()

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
    backend_url = models.CharField(
        _("backend URL"),
        max_length=500,
        blank=True,
        validators=[backend_url_validator],
        help_text=_(
            "Where the provider's gateway forwards the calls, e.g. http://10.0.0.7:8080/v1/"
            "licences. Written into that gateway's gateway.json, never published."
        ),
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


class ClientCertificate(models.Model):
    """A certificate an information system presents for one client (a subsystem, or a member
    without one) on the TLS client side of its gateway; published by its fingerprint."""

    subsystem = models.ForeignKey(
        Subsystem,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="client_certificates",
        verbose_name=_("subsystem"),
    )
    member = models.ForeignKey(
        Member,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="client_certificates",
        verbose_name=_("member"),
    )
    certificate = models.TextField(
        _("certificate"),
        validators=[client_certificate_validator],
        help_text=_("The PEM certificate, from `egov pki issue --profile information-system`."),
    )
    fingerprint = models.CharField(_("SHA-256 fingerprint"), max_length=64, editable=False)
    subject = models.CharField(_("subject"), max_length=500, editable=False)

    class Meta:
        verbose_name = _("client certificate")
        verbose_name_plural = _("client certificates")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(subsystem__isnull=False, member__isnull=True)
                | Q(subsystem__isnull=True, member__isnull=False),
                name="exchange_certificate_one_client",
            ),
            models.UniqueConstraint(
                fields=["subsystem", "fingerprint"], name="exchange_certificate_subsystem_unique"
            ),
            models.UniqueConstraint(
                fields=["member", "fingerprint"], name="exchange_certificate_member_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} ({self.fingerprint[:16]}…)"

    def derive(self) -> None:
        """Fingerprint and subject from the PEM (once it has passed its validator)."""
        try:
            certificate = load_certificate(self.certificate.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            return  # the field's validator has said why
        self.fingerprint = fingerprint_sha256(certificate)
        self.subject = certificate.subject.rfc4514_string()[:500]

    def clean(self) -> None:
        """Derive the fingerprint and refuse a certificate the client has already."""
        self.derive()
        if not self.fingerprint:
            return
        twins = ClientCertificate.objects.exclude(pk=self.pk).filter(fingerprint=self.fingerprint)
        if (self.subsystem_id and twins.filter(subsystem_id=self.subsystem_id).exists()) or (
            self.member_id and twins.filter(member_id=self.member_id).exists()
        ):
            raise ValidationError(
                {"certificate": _("This certificate is registered for this client already.")},
                code="duplicate",
            )


class AccessRight(models.Model):
    """A client — a subsystem, or a member calling without one — may call a service, or only
    some of its endpoints, for the purposes listed (required for personal data)."""

    client = models.ForeignKey(
        Subsystem,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="access_rights",
        verbose_name=_("client subsystem"),
    )
    client_member = models.ForeignKey(
        Member,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="access_rights",
        verbose_name=_("client member"),
        help_text=_("Instead of a subsystem: a member that calls without one."),
    )
    service = models.ForeignKey(
        Service, models.CASCADE, related_name="access_rights", verbose_name=_("service")
    )
    endpoints = models.JSONField(
        _("endpoints"),
        default=list,
        blank=True,
        validators=[endpoints_validator],
        help_text=_(
            'Empty: the whole service. For example [{"method": "GET", "path": "/licences/*"}]: '
            "* matches within one segment, ** any number of segments."
        ),
    )

    class Meta:
        verbose_name = _("access right")
        verbose_name_plural = _("access rights")
        constraints = [
            models.UniqueConstraint(fields=["client", "service"], name="exchange_access_unique"),
            models.UniqueConstraint(
                fields=["client_member", "service"], name="exchange_access_member_unique"
            ),
            models.CheckConstraint(
                condition=Q(client__isnull=False, client_member__isnull=True)
                | Q(client__isnull=True, client_member__isnull=False),
                name="exchange_access_one_client",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client_entity} → {self.service}"

    @property
    def client_entity(self) -> Subsystem | Member | None:
        return self.client if self.client_id else self.client_member

    @property
    def client_identifier(self) -> str:
        entity = self.client_entity
        return entity.identifier if entity is not None else ""

    def clean(self) -> None:
        if bool(self.client_id) == bool(self.client_member_id):
            raise ValidationError(
                {
                    "client": _(
                        "Choose the client: either a subsystem or a member calling without one."
                    )
                },
                code="client",
            )
        twins = AccessRight.objects.exclude(pk=self.pk).filter(service_id=self.service_id)
        if self.client_member_id and twins.filter(client_member_id=self.client_member_id).exists():
            raise ValidationError(
                {"client_member": _("This member has a right to this service already.")},
                code="duplicate",
            )
        if self.service_id and isinstance(self.endpoints, list):
            self._check_endpoints(self.service)

    def _check_endpoints(self, service: Service) -> None:
        """Each endpoint of the right must be one the service describes (its OpenAPI paths,
        else its endpoint list); a service that describes none accepts any."""
        described = openapi_endpoints(service.openapi) or list(service.endpoints or [])
        if not described or not all(isinstance(item, dict) for item in self.endpoints):
            return
        try:
            uncovered = endpoints_uncovered(self.endpoints, described)
        except (KeyError, TypeError):
            return  # the field's validator has said why
        if uncovered:
            raise ValidationError(
                {
                    "endpoints": _(
                        "%(endpoints)s: the service has no such endpoint. It describes: "
                        "%(described)s."
                    )
                    % {
                        "endpoints": ", ".join(
                            f"{item['method']} {item['path']}" for item in uncovered
                        ),
                        "described": ", ".join(
                            f"{item['method']} {item['path']}" for item in described
                        ),
                    }
                },
                code="endpoints",
            )


class AccessRightPurpose(models.Model):
    """Why a client may call: the code a call may name in ``X-Egov-Purpose``, what it means
    and the law that allows it, in three languages (shown in "who used my data")."""

    access_right = models.ForeignKey(
        AccessRight, models.CASCADE, related_name="purposes", verbose_name=_("access right")
    )
    code = models.CharField(_("code"), max_length=64, validators=[purpose_code_validator])
    text_be = models.CharField(_("purpose (Belarusian)"), max_length=500)
    text_ru = models.CharField(_("purpose (Russian)"), max_length=500)
    text_en = models.CharField(_("purpose (English)"), max_length=500)
    legal_basis_be = models.CharField(_("legal basis (Belarusian)"), max_length=500)
    legal_basis_ru = models.CharField(_("legal basis (Russian)"), max_length=500)
    legal_basis_en = models.CharField(_("legal basis (English)"), max_length=500)

    class Meta:
        verbose_name = _("purpose")
        verbose_name_plural = _("purposes")
        ordering = ["access_right", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["access_right", "code"], name="exchange_purpose_unique")
        ]

    def __str__(self) -> str:
        return self.code

    def as_published(self) -> dict[str, Any]:
        """The purpose as the global configuration carries it."""
        return {
            "code": self.code,
            "text": {"be": self.text_be, "ru": self.text_ru, "en": self.text_en},
            "legal_basis": {
                "be": self.legal_basis_be,
                "ru": self.legal_basis_ru,
                "en": self.legal_basis_en,
            },
        }


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
