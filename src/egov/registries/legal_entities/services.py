"""Writes of the legal entities register."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db import transaction

from egov.registries.legal_entities.models import DataAccess, Event, EventType
from egov.registries.shared.http import Caller
from egov.registries.shared.services import data_access_record as _record


def data_access_record(*, caller: Caller, service: str, data: str, subjects: Iterable[str]) -> int:
    return _record(model=DataAccess, caller=caller, service=service, data=data, subjects=subjects)


@transaction.atomic
def event_record(
    *, type: EventType | str, subject: str, at: datetime.datetime, data: dict[str, Any]
) -> Event:
    """Put a change in the outbox (see the population register's ``event_record``)."""
    return Event.objects.create(type=str(type), subject=subject, at=at, data=data)
