"""Writes to the central registry. Each runs in one transaction together with the bump of the
configuration serial, so the gateways see every change as a new serial."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import structlog
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from egov.core.errors import ApplicationError
from egov.exchange.central.models import (
    AccessRight,
    AccessRightPurpose,
    ClientCertificate,
    ConfigurationVersion,
    Gateway,
    Member,
    Service,
    Subsystem,
)

logger = structlog.get_logger(__name__)

#: A purpose as the global configuration, the YAML description and the command line give it:
#: ``{"code": "check", "text": {"be", "ru", "en"}, "legal_basis": {"be", "ru", "en"}}``.
Purpose = Mapping[str, Any]
Client = Subsystem | Member
LANGUAGES = ("be", "ru", "en")

Entry = TypeVar("Entry", bound=models.Model)


class RegistryEntryInvalid(ApplicationError):
    code = "invalid"
    http_status = 400

    def __init__(self, error: ValidationError):
        self.errors = error.message_dict if hasattr(error, "error_dict") else {}
        described = (
            "; ".join(f"{field}: {' '.join(messages)}" for field, messages in self.errors.items())
            if self.errors
            else " ".join(error.messages)
        )
        super().__init__(_("Some values are not valid: %(errors)s") % {"errors": described})


def configuration_bump() -> int:
    """Increment the serial of the global configuration; returns the new serial. Call inside
    the transaction of the change."""
    with transaction.atomic():
        ConfigurationVersion.objects.get_or_create(pk=1)
        ConfigurationVersion.objects.filter(pk=1).update(
            serial=F("serial") + 1, changed_at=timezone.now()
        )
        return ConfigurationVersion.objects.values_list("serial", flat=True).get(pk=1)


def _save(entry: Entry) -> Entry:
    try:
        entry.full_clean()
    except ValidationError as error:
        raise RegistryEntryInvalid(error) from None
    with transaction.atomic():
        entry.save()
        configuration_bump()
    return entry


def _delete(entry: models.Model) -> None:
    with transaction.atomic():
        entry.delete()
        configuration_bump()


def member_save(*, member: Member) -> Member:
    return _save(member)


def member_delete(*, member: Member) -> None:
    _delete(member)


def gateway_save(*, gateway: Gateway) -> Gateway:
    return _save(gateway)


def gateway_delete(*, gateway: Gateway) -> None:
    _delete(gateway)


def subsystem_save(*, subsystem: Subsystem) -> Subsystem:
    return _save(subsystem)


def subsystem_delete(*, subsystem: Subsystem) -> None:
    _delete(subsystem)


def service_save(*, service: Service) -> Service:
    """Save a service. Marking it as personal data is refused while a right to it declares
    no purpose (every such right must say why)."""
    if service.pk and service.personal_data:
        without = [
            right.client_identifier
            for right in AccessRight.objects.filter(service=service, purposes__isnull=True)
            .select_related("client__member", "client_member")
            .order_by("pk")
        ]
        if without:
            raise RegistryEntryInvalid(
                ValidationError(
                    {
                        "personal_data": _(
                            "Give the rights of %(clients)s a purpose first: a right to a "
                            "personal-data service needs at least one."
                        )
                        % {"clients": ", ".join(without)}
                    }
                )
            )
    return _save(service)


def service_delete(*, service: Service) -> None:
    _delete(service)


def _purpose_entries(purposes: Sequence[Purpose]) -> list[AccessRightPurpose]:
    """Checked, unsaved purpose rows (without their right) in the order given."""
    entries: list[AccessRightPurpose] = []
    codes: set[str] = set()
    for purpose in purposes:
        text = purpose.get("text") or {}
        legal_basis = purpose.get("legal_basis") or {}
        entry = AccessRightPurpose(
            code=str(purpose.get("code", "")),
            **{f"text_{language}": str(text.get(language, "")) for language in LANGUAGES},
            **{
                f"legal_basis_{language}": str(legal_basis.get(language, ""))
                for language in LANGUAGES
            },
        )
        try:
            entry.full_clean(exclude=["access_right"], validate_constraints=False)
        except ValidationError as error:
            details = "; ".join(
                f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items()
            )
            raise RegistryEntryInvalid(
                ValidationError(
                    {
                        "purposes": _("The purpose %(code)s is not complete: %(details)s")
                        % {"code": entry.code or "?", "details": details}
                    }
                )
            ) from None
        if entry.code in codes:
            raise RegistryEntryInvalid(
                ValidationError(
                    {"purposes": _("The purpose %(code)s is given twice.") % {"code": entry.code}}
                )
            )
        codes.add(entry.code)
        entries.append(entry)
    return entries


def access_right_purposes_missing(service: Service | None, count: int) -> ValidationError | None:
    """The error for a right to a personal-data service without a purpose, if it is one."""
    if service is not None and service.personal_data and count == 0:
        return ValidationError(
            _(
                "%(service)s holds personal data: give the right at least one purpose (a code, "
                "its text and its legal basis in Belarusian, Russian and English)."
            )
            % {"service": service.identifier},
            code="purpose_required",
        )
    return None


def access_right_save(
    *, access_right: AccessRight, purposes: Sequence[Purpose] | None = None
) -> AccessRight:
    """Save a right and, when ``purposes`` is given, replace its purposes with them. A right
    to a personal-data service must end up with at least one purpose."""
    try:
        access_right.full_clean()
    except ValidationError as error:
        raise RegistryEntryInvalid(error) from None
    entries = _purpose_entries(purposes) if purposes is not None else None
    count = (
        len(entries)
        if entries is not None
        else (access_right.purposes.count() if access_right.pk else 0)
    )
    missing = access_right_purposes_missing(access_right.service, count)
    if missing is not None:
        raise RegistryEntryInvalid(ValidationError({"purposes": missing}))
    with transaction.atomic():
        access_right.save()
        if entries is not None:
            access_right.purposes.all().delete()
            for entry in entries:
                entry.access_right = access_right
            AccessRightPurpose.objects.bulk_create(entries)
        configuration_bump()
    logger.info(
        "exchange.access_right_saved",
        client=access_right.client_identifier,
        service=access_right.service.identifier,
        purposes=[entry.code for entry in entries] if entries is not None else None,
    )
    return access_right


def access_right_delete(*, access_right: AccessRight) -> None:
    _delete(access_right)


def _client_lookup(client: Client) -> dict[str, Any]:
    return {"client": client} if isinstance(client, Subsystem) else {"client_member": client}


def _purposes_published(purposes: Sequence[Purpose]) -> list[dict[str, Any]]:
    return [
        {
            "code": str(purpose.get("code", "")),
            "text": {
                language: str((purpose.get("text") or {}).get(language, ""))
                for language in LANGUAGES
            },
            "legal_basis": {
                language: str((purpose.get("legal_basis") or {}).get(language, ""))
                for language in LANGUAGES
            },
        }
        for purpose in purposes
    ]


def access_right_grant(
    *,
    client: Client,
    service: Service,
    endpoints: list[dict[str, str]] | None = None,
    purposes: Sequence[Purpose] | None = None,
) -> AccessRight:
    """Let ``client`` (a subsystem, or a member calling without one) call ``service``.

    ``endpoints`` (empty: the whole service) and ``purposes`` replace the right's when given.
    Granting a right exactly as it stands changes nothing, not even the serial."""
    with transaction.atomic():
        access_right = (
            AccessRight.objects.select_for_update()
            .filter(service=service, **_client_lookup(client))
            .first()
        )
        if access_right is None:
            access_right = AccessRight(
                service=service, endpoints=list(endpoints or []), **_client_lookup(client)
            )
            return access_right_save(access_right=access_right, purposes=list(purposes or []))
        endpoints_changed = endpoints is not None and list(endpoints) != access_right.endpoints
        purposes_changed = purposes is not None and _purposes_published(purposes) != [
            purpose.as_published() for purpose in access_right.purposes.all()
        ]
        if not endpoints_changed and not purposes_changed:
            return access_right
        if endpoints is not None:
            access_right.endpoints = list(endpoints)
        return access_right_save(access_right=access_right, purposes=purposes)


def access_right_revoke(*, client: Client, service: Service) -> None:
    with transaction.atomic():
        deleted, _by_model = AccessRight.objects.filter(
            service=service, **_client_lookup(client)
        ).delete()
        if deleted:
            configuration_bump()


def _certificate_owner(client: Client) -> dict[str, Any]:
    return {"subsystem": client} if isinstance(client, Subsystem) else {"member": client}


def _checked_certificate(client: Client, certificate: str) -> ClientCertificate:
    entry = ClientCertificate(certificate=certificate.strip() + "\n", **_certificate_owner(client))
    try:
        entry.clean_fields()
    except ValidationError as error:
        raise RegistryEntryInvalid(error) from None
    entry.derive()
    return entry


def client_certificate_add(*, client: Client, certificate: str) -> ClientCertificate:
    """Register a certificate (PEM) for ``client``; registering it again changes nothing."""
    entry = _checked_certificate(client, certificate)
    with transaction.atomic():
        existing = client.client_certificates.filter(fingerprint=entry.fingerprint).first()
        if existing is not None:
            return existing
        entry.save()
        configuration_bump()
    logger.info(
        "exchange.client_certificate_added",
        client=client.identifier,
        fingerprint=entry.fingerprint,
    )
    return entry


def client_certificates_set(*, client: Client, certificates: Sequence[str]) -> None:
    """Make ``certificates`` (PEM) the client's registered certificates, in that order;
    bumps the serial only when they change."""
    entries = [_checked_certificate(client, certificate) for certificate in certificates]
    fingerprints = [entry.fingerprint for entry in entries]
    if len(set(fingerprints)) != len(fingerprints):
        raise RegistryEntryInvalid(
            ValidationError(
                {"certificate": _("The same certificate is given twice.")}, code="duplicate"
            )
        )
    with transaction.atomic():
        current = list(client.client_certificates.values_list("fingerprint", flat=True))
        if current == fingerprints:
            return
        client.client_certificates.all().delete()
        ClientCertificate.objects.bulk_create(entries)
        configuration_bump()
    logger.info(
        "exchange.client_certificates_set", client=client.identifier, fingerprints=fingerprints
    )


def registry_entries_delete(*, queryset: models.QuerySet[Any]) -> None:
    """Delete several entries (the admin's bulk action) as one change."""
    with transaction.atomic():
        queryset.delete()
        configuration_bump()


def registry_entry_upsert(
    model: type[Entry], *, lookup: dict[str, Any], values: dict[str, Any]
) -> Entry:
    """Create the entry found by ``lookup`` or bring its ``values`` up to date. Saves (and
    bumps the serial) only when something differs, so a repeated set-up changes nothing."""
    with transaction.atomic():
        entry = model._default_manager.select_for_update().filter(**lookup).first()
        if entry is None:
            return _save(model(**lookup, **values))
        changed = False
        for field, value in values.items():
            if getattr(entry, field) != value:
                setattr(entry, field, value)
                changed = True
        return _save(entry) if changed else entry
