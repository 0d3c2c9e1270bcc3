from __future__ import annotations

from django_tasks import task

from egov.notifications.services import delivery_attempt_run


@task()
def delivery_attempt(delivery_id: str) -> str:
    return delivery_attempt_run(delivery_id=delivery_id)
