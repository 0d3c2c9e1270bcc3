"""Writes to the central registry. Each runs in one transaction together with the bump of the
configuration serial, so the gateways see every change as a new serial."""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from egov.core.errors import ApplicationError
from egov.exchange.central.models import (
    AccessRight,
    ConfigurationVersion,
    Gateway,
    Member,
    Service,
    Subsystem,
)

Entry = TypeVar("Entry", bound=models.Model)


class RegistryEntryInvalid(ApplicationError):
    code = "invalid"
    http_status = 400

    def __init__(self, error: ValidationError):
        super().__init__(_("Some values are not valid: %(errors)s") % {"errors": error})
        self.errors = error.message_dict if hasattr(error, "error_dict") else {}


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
    return _save(service)


def service_delete(*, service: Service) -> None:
    _delete(service)


def access_right_save(*, access_right: AccessRight) -> AccessRight:
    return _save(access_right)


def access_right_delete(*, access_right: AccessRight) -> None:
    _delete(access_right)


def access_right_grant(*, client: Subsystem, service: Service) -> AccessRight:
    """Let ``client`` call ``service``; granting a right that exists changes nothing."""
    with transaction.atomic():
        access_right, created = AccessRight.objects.get_or_create(client=client, service=service)
        if created:
            configuration_bump()
    return access_right


def access_right_revoke(*, client: Subsystem, service: Service) -> None:
    with transaction.atomic():
        deleted, _by_model = AccessRight.objects.filter(client=client, service=service).delete()
        if deleted:
            configuration_bump()


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
