"""The password reset page does not tell whether an email address has an account: the
request queues one task either way and sends nothing; the worker sends the email."""

from __future__ import annotations

import re
from typing import Any

import pytest
import structlog
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from egov.core.worker import tasks_run_pending
from egov.identity.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

RESET = "/en/account/password-reset/"
RESET_LINK = re.compile(r"http://127\.0\.0\.1:8000(/(?:en|ru|be)/account/password-reset/\S+/)")
TASK = "egov.identity.tasks.password_reset_send"


def _queued() -> list[tuple[str, list[Any]]]:
    return [
        (task.task_path, task.args_kwargs["args"])
        for task in DBTaskResult.objects.order_by("enqueued_at")
    ]


def _answer(client: Any, email: str) -> tuple[int, str, str]:
    response = client.post(RESET, {"email": email})
    page = client.get(response["Location"]).content.decode() if response.status_code == 302 else ""
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)
    return response.status_code, response.get("Location", ""), page


def _link(message: Any) -> str:
    match = RESET_LINK.search(message.get_payload(decode=True).decode())
    assert match is not None
    return match.group(1)


def test_existing_and_unknown_addresses_queue_one_task_send_nothing_and_answer_the_same(
    client: Any, mailbox: Any
) -> None:
    user = UserFactory(email="reset@example.org")
    DBTaskResult.objects.all().delete()

    existing = _answer(client, "Reset@Example.org")
    assert mailbox.messages == []
    assert _queued() == [(TASK, [[user.pk], "en"])]

    DBTaskResult.objects.all().delete()
    unknown = _answer(client, "nobody@example.org")
    assert mailbox.messages == []
    assert _queued() == [(TASK, [[], "en"])]

    assert existing == unknown
    assert existing[:2] == (302, "/en/account/password-reset/sent/")


def test_an_inactive_account_queues_the_same_task_as_an_unknown_address(
    client: Any, mailbox: Any
) -> None:
    UserFactory(email="reset@example.org", is_active=False)
    DBTaskResult.objects.all().delete()

    client.post(RESET, {"email": "reset@example.org"})

    assert _queued() == [(TASK, [[], "en"])]
    assert tasks_run_pending() == 1
    assert mailbox.messages == []


def test_the_task_sends_one_email_with_a_link_that_sets_a_new_password(
    client: Any, mailbox: Any
) -> None:
    user = UserFactory(email="reset@example.org")
    client.post(RESET, {"email": "reset@example.org"})

    assert tasks_run_pending() == 1

    assert [(m["To"], m["Subject"]) for m in mailbox.messages] == [
        ("reset@example.org", "Reset your password")
    ]
    form = client.get(_link(mailbox.messages[0]), follow=True)
    assert form.status_code == 200
    response = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "brand-New-Pass-7", "new_password2": "brand-New-Pass-7"},
    )
    assert response["Location"] == "/en/account/password-reset/done/"
    user.refresh_from_db()
    assert user.check_password("brand-New-Pass-7")


def test_the_email_is_in_the_language_of_the_request(client: Any, mailbox: Any) -> None:
    UserFactory(email="reset@example.org", language="en")
    client.post("/ru/account/password-reset/", {"email": "reset@example.org"})

    tasks_run_pending()

    assert len(mailbox.messages) == 1
    assert _link(mailbox.messages[0]).startswith("/ru/account/password-reset/")
    assert mailbox.messages[0]["Subject"] != "Reset your password"


def test_the_task_for_an_unknown_address_sends_nothing(client: Any, mailbox: Any) -> None:
    UserFactory(email="reset@example.org")
    client.post(RESET, {"email": "nobody@example.org"})

    assert tasks_run_pending() == 1

    assert mailbox.messages == []
    assert DBTaskResult.objects.get(task_path=TASK).return_value == 0


def test_a_failing_mail_server_is_tried_again_later(
    client: Any, mailbox: Any, settings: Any
) -> None:
    from tests.ports import free_port

    user = UserFactory(email="reset@example.org")
    working_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()  # nothing listens there
    client.post(RESET, {"email": "reset@example.org"})

    with structlog.testing.capture_logs() as events:
        assert tasks_run_pending() == 1

    assert mailbox.messages == []
    retry = DBTaskResult.objects.get(task_path=TASK, status=TaskResultStatus.READY)
    assert retry.args_kwargs["args"] == [[user.pk], "en", 2]
    assert retry.run_after > timezone.now()
    assert [e for e in events if e["event"] == "password reset email could not be sent"] == [
        {
            "event": "password reset email could not be sent",
            "log_level": "warning",
            "user_id": user.pk,
            "attempt": 1,
        }
    ]

    settings.EMAIL_PORT = working_port
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())
    assert tasks_run_pending() == 1
    assert [m["To"] for m in mailbox.messages] == ["reset@example.org"]
    assert User.objects.get(pk=user.pk).check_password("correct-Horse-42")
