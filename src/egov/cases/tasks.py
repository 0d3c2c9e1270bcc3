"""Background work of applications, run by ``egov worker``. Tasks take ids and are
idempotent: the queue delivers at least once."""

from __future__ import annotations

from django_tasks import task

from egov.cases.services import application_advance as advance


@task()
def application_advance(application_id: int) -> list[str]:
    return advance(application_id=application_id)
