"""Writes the registries share: recording who read personal data."""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from django.db import models, transaction
from django.utils import timezone

from egov.audit import record_many
from egov.registries.shared.http import Caller
from egov.registries.shared.models import DataAccessBase


def data_access_record(
    *,
    model: type[models.Model],
    caller: Caller,
    service: str,
    data: str,
    subjects: Iterable[str],
) -> int:
    """One row per person whose data a successful call returned, each also an entry
    ``data.accessed`` of the audit ledger (in one transaction); returns how many."""
    now = timezone.now()
    rows = [
        model(
            at=now,
            client=caller.client[:200],
            member=caller.member[:64],
            service=service,
            data=data,
            subject=subject,
            user_id=caller.user_id[:100],
            purposes=list(caller.purposes),
            issue=caller.issue[:200],
            message_id=caller.message_id[:100],
            request_id=caller.request_id[:64],
        )
        for subject in dict.fromkeys(subjects)
    ]
    register = model._meta.app_label.removeprefix("registry_")
    with transaction.atomic():
        model._default_manager.bulk_create(rows)
        record_many(
            "data.accessed",
            [
                (row.subject, {"register": register, **row.as_json()})
                for row in cast(list[DataAccessBase], rows)
            ],
            actor=caller.client[:200],
        )
    return len(rows)
