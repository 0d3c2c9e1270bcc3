"""Writes the registries share: recording who read personal data."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models
from django.utils import timezone

from egov.registries.shared.http import Caller


def data_access_record(
    *,
    model: type[models.Model],
    caller: Caller,
    service: str,
    data: str,
    subjects: Iterable[str],
) -> int:
    """One row per person whose data a successful call returned; returns how many."""
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
    model._default_manager.bulk_create(rows)
    return len(rows)
