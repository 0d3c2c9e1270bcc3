"""Writes the registries share: recording who read personal data."""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from django.db import models, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from egov.audit import record_many
from egov.registries.shared.http import Caller
from egov.registries.shared.models import DataAccessBase


def user_pseudonym(user_id: str) -> str:
    """What the ledger says of the person who made a read (an official's or a company
    representative's ``<instance><personal number>``): a keyed pseudonym, the same for the
    same person. The ledger's entries go to the person whose data was read (their proofs):
    the reader's identification number stays in the register's own access log, where an
    investigation maps a pseudonym back by computing it over that log's ``user_id``."""
    if not user_id:
        return ""
    return "p-" + salted_hmac("egov.registries.ledger-user", user_id).hexdigest()[:24]


def _ledger_data(register: str, row: DataAccessBase) -> dict[str, object]:
    data: dict[str, object] = {"register": register, **row.as_json()}
    data["user_id"] = user_pseudonym(str(data.get("user_id") or ""))
    return data


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
                (row.subject, _ledger_data(register, row))
                for row in cast(list[DataAccessBase], rows)
            ],
            actor=caller.client[:200],
        )
    return len(rows)
