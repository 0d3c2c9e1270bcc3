"""The whole retry schedule of a delivery, through the delivery task on a clock the test
moves: retries after 1, 5, 15, 60, 180 and 720 minutes, then it gives up."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from egov.core.worker import tasks_run_pending
from egov.notifications.models import Delivery
from egov.notifications.services import message_send
from tests.conftest import free_port
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

START = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.get_fixed_timezone(0))


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(timezone, "now", clock)
    return clock


def _retry_tasks(delivery: Delivery) -> list[Any]:
    return list(
        DBTaskResult.objects.filter(
            status=TaskResultStatus.READY, args_kwargs__args=[str(delivery.pk)]
        )
    )


def test_a_failing_email_is_retried_on_the_schedule_and_then_given_up(
    settings: Any, clock: Clock
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_PORT = free_port()  # nobody listens there: every attempt fails
    message = message_send(
        recipient=UserFactory(language="en"),
        template="application_received",
        context={
            "number": "MVD-2026-000042",
            "service_name": {"be": "Даведка", "ru": "Справка", "en": "Certificate"},
            "agency_name": {"be": "МУС", "ru": "МВД", "en": "Ministry"},
            "deadline": START.date(),
        },
        reference="MVD-2026-000042",
        link="/en/my-account/applications/MVD-2026-000042/",
    )
    delivery = Delivery.objects.get(message=message, channel="email")

    assert tasks_run_pending() == 1  # the first attempt, at once
    waits = []
    for attempt in range(2, 9):
        delivery.refresh_from_db()
        retries = _retry_tasks(delivery)
        if not retries:
            break
        (retry,) = retries
        waits.append((retry.run_after - clock.now) / timedelta(minutes=1))
        assert (delivery.status, delivery.attempts) == ("failed", attempt - 1)
        assert delivery.next_attempt_at == retry.run_after
        clock.now = retry.run_after - timedelta(seconds=1)
        assert tasks_run_pending() == 0  # not a second early
        clock.now = retry.run_after
        assert tasks_run_pending() == 1

    assert waits == [1, 5, 15, 60, 180, 720]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("gave_up", 7)
    assert "ConnectionRefusedError" in delivery.last_error
    assert _retry_tasks(delivery) == []
    clock.now += timedelta(days=30)
    assert tasks_run_pending() == 0
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("gave_up", 7)
