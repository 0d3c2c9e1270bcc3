"""Messages reach people: the inbox at once, email and SMS in the background, retried when a
channel fails and never lost."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from egov.core.models import WorkerHeartbeat
from egov.core.worker import sweeps_run, tasks_recover, tasks_run_pending
from egov.notifications.models import Delivery, Message
from egov.notifications.services import MAX_ATTEMPTS, deliveries_requeue_overdue, message_send
from egov.notifications.sms.contrib.loopback.provider import loopback_messages
from tests.conftest import free_port
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CONTEXT = {
    "number": "MVD-2026-000042",
    "service_name": {"be": "Даведка", "ru": "Справка", "en": "Criminal record certificate"},
    "agency_name": {"be": "МУС", "ru": "МВД", "en": "Ministry of Internal Affairs"},
    "deadline": timezone.localdate(),
}


def _send(user, template="application_received"):
    return message_send(
        recipient=user,
        template=template,
        context=CONTEXT,
        reference="MVD-2026-000042",
        link="/en/my-account/applications/MVD-2026-000042/",
    )


def test_email_goes_through_the_smtp_server_in_the_recipients_language(mailbox):
    user = UserFactory(language="en", first_name="Hanna")
    message = _send(user)
    assert message.subject == "Application MVD-2026-000042 received"
    assert Message.objects.filter(recipient=user).count() == 1
    assert len(mailbox.messages) == 0  # not before the worker runs
    tasks_run_pending()
    assert len(mailbox.messages) == 1
    email = mailbox.messages[0]
    assert email["To"] == user.email
    assert email["Subject"] == "Application MVD-2026-000042 received"
    body = email.get_payload(decode=True).decode()
    assert "Hello, Hanna." in body
    assert '"Criminal record certificate"' in body  # not HTML-escaped
    assert "http://127.0.0.1:8000/en/my-account/applications/MVD-2026-000042/" in body
    delivery = Delivery.objects.get(message=message)
    assert (delivery.status, delivery.attempts) == ("sent", 1)
    tasks_run_pending()
    assert len(mailbox.messages) == 1


def test_a_failed_email_is_recorded_retried_and_delivered_once(settings, mailbox):
    controller_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()  # nobody listens there
    user = UserFactory(language="en")
    message = _send(user)
    tasks_run_pending()
    delivery = Delivery.objects.get(message=message)
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert "ConnectionRefusedError" in delivery.last_error
    wait = delivery.next_attempt_at - timezone.now()
    assert timedelta(seconds=50) < wait <= timedelta(minutes=1)
    retry = DBTaskResult.objects.get(
        status=TaskResultStatus.READY, args_kwargs__args=[str(delivery.pk)]
    )
    assert retry.run_after == delivery.next_attempt_at
    assert tasks_run_pending() == 0  # not due yet
    settings.EMAIL_PORT = controller_port
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())
    assert tasks_run_pending() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 2, "")
    assert len(mailbox.messages) == 1


def test_after_the_last_retry_a_delivery_gives_up_visibly(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_PORT = free_port()
    user = UserFactory(language="en")
    message = _send(user)
    for _ in range(MAX_ATTEMPTS):
        DBTaskResult.objects.filter(status=TaskResultStatus.READY).update(run_after=timezone.now())
        tasks_run_pending()
    delivery = Delivery.objects.get(message=message)
    assert (delivery.status, delivery.attempts) == ("gave_up", MAX_ATTEMPTS)
    DBTaskResult.objects.filter(status=TaskResultStatus.READY).update(run_after=timezone.now())
    assert tasks_run_pending() == 0
    assert Message.objects.filter(pk=message.pk).exists()  # still in the inbox


def test_sms_goes_through_the_loopback_provider(mailbox):
    user = UserFactory(language="en", phone="+375291234567", notify_by_sms=True)
    before = len(loopback_messages())
    _send(user, template="information_requested")
    tasks_run_pending()
    sms = loopback_messages()
    assert len(sms) == before + 1
    assert sms[0]["to"] == "+375291234567"
    assert sms[0]["text"] == "Application MVD-2026-000042: information requested MVD-2026-000042"
    assert sorted(
        Delivery.objects.filter(message__recipient=user).values_list("channel", "status")
    ) == [
        ("email", "sent"),
        ("sms", "sent"),
    ]


def test_a_person_who_turned_email_off_gets_only_the_inbox(mailbox):
    user = UserFactory(language="en", notify_by_email=False)
    _send(user)
    tasks_run_pending()
    assert Delivery.objects.filter(message__recipient=user).count() == 0
    assert len(mailbox.messages) == 0


def test_overdue_deliveries_whose_task_was_lost_are_queued_again(mailbox):
    user = UserFactory(language="en")
    message = _send(user)
    DBTaskResult.objects.all().delete()  # the task is lost
    Delivery.objects.filter(message=message).update(
        next_attempt_at=timezone.now() - timedelta(hours=1)
    )
    assert deliveries_requeue_overdue() == 1
    tasks_run_pending()
    assert Delivery.objects.get(message=message).status == "sent"
    assert len(mailbox.messages) == 1


def test_a_task_left_running_by_a_dead_worker_runs_again_and_its_effect_happens_once(mailbox):
    user = UserFactory(language="en")
    message = _send(user)
    delivery = Delivery.objects.get(message=message)
    task = DBTaskResult.objects.get(args_kwargs__args=[str(delivery.pk)])
    # A worker claimed it, counted the attempt and was killed before finishing.
    long_ago = timezone.now() - timedelta(minutes=5)
    DBTaskResult.objects.filter(pk=task.pk).update(
        status=TaskResultStatus.RUNNING, started_at=long_ago, worker_ids=["dead-worker"]
    )
    Delivery.objects.filter(pk=delivery.pk).update(attempts=1)
    WorkerHeartbeat.objects.create(
        worker_id="dead-worker", host="h", pid=1, started_at=long_ago, seen_at=long_ago
    )
    assert tasks_run_pending() == 0  # nobody takes a running task
    assert sweeps_run()["recovered"] == 1
    assert tasks_run_pending() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert len(mailbox.messages) == 1
    assert tasks_recover() == 0


def test_a_live_workers_task_is_left_alone():
    user = UserFactory(language="en")
    message = _send(user)
    task = DBTaskResult.objects.get(
        args_kwargs__args=[str(Delivery.objects.get(message=message).pk)]
    )
    long_ago = timezone.now() - timedelta(minutes=5)
    DBTaskResult.objects.filter(pk=task.pk).update(
        status=TaskResultStatus.RUNNING, started_at=long_ago, worker_ids=["busy-worker"]
    )
    WorkerHeartbeat.objects.create(
        worker_id="busy-worker", host="h", pid=1, started_at=long_ago, seen_at=timezone.now()
    )
    assert tasks_recover() == 0
    assert DBTaskResult.objects.get(pk=task.pk).status == TaskResultStatus.RUNNING


@pytest.mark.parametrize(
    ("language", "subject"),
    [
        ("be", "MVD-2026-000042"),
        ("ru", "MVD-2026-000042"),
    ],
)
def test_messages_are_written_in_the_recipients_language(mailbox, language, subject):
    user = UserFactory(language=language)
    message = _send(user, template="information_requested")
    english = "Application MVD-2026-000042: information requested"
    assert subject in message.subject
    assert message.subject != english
    assert "Hello" not in message.body
    tasks_run_pending()
    assert mailbox.messages[0]["Subject"] != english


def test_two_attempts_at_once_send_one_email(mailbox):
    from egov.notifications.models import DeliveryStatus
    from egov.notifications.services import delivery_attempt_run

    user = UserFactory(language="en")
    message = _send(user)
    delivery = Delivery.objects.get(message=message)
    # The first attempt holds the lease (it is sending right now, in another worker).
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING,
        attempts=1,
        lease_until=timezone.now() + timedelta(seconds=30),
    )
    assert delivery_attempt_run(delivery_id=str(delivery.pk)) == "in progress"
    assert len(mailbox.messages) == 0
    delivery.refresh_from_db()
    assert delivery.attempts == 1
    # It looks again when the lease runs out; if the first attempt died, it sends then.
    assert DBTaskResult.objects.filter(
        status=TaskResultStatus.READY,
        args_kwargs__args=[str(delivery.pk)],
        run_after=delivery.lease_until,
    ).exists()
    Delivery.objects.filter(pk=delivery.pk).update(
        lease_until=timezone.now() - timedelta(seconds=1)
    )
    assert delivery_attempt_run(delivery_id=str(delivery.pk)) == "sent"
    assert len(mailbox.messages) == 1


def test_a_failure_of_any_kind_is_recorded_and_retried(settings, monkeypatch):
    from egov.notifications import services as notification_services

    def broken(delivery, message):  # type: ignore[no-untyped-def]
        raise ValueError("template produced something the provider refused")

    monkeypatch.setattr(notification_services, "_send", broken)
    user = UserFactory(language="en")
    message = _send(user)
    tasks_run_pending()
    delivery = Delivery.objects.get(message=message)
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert delivery.last_error.startswith("ValueError:")
