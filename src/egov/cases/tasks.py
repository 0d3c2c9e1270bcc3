"""Background work of applications, run by ``egov worker``. Tasks take ids and are
idempotent: the queue delivers at least once."""

from __future__ import annotations

from django_tasks import task

from egov.cases import registry_data
from egov.cases.services import application_advance as advance


@task()
def application_advance(application_id: int) -> list[str]:
    return advance(application_id=application_id)


@task()
def registry_check_run(check_id: int) -> str:
    """Fetch one registry check; an unreachable register queues it again with a back-off."""
    return registry_data.registry_check_run(check_id=check_id)
