"""Registration does not tell whether an email address or an identification number already
has an account: the answer is the same, nothing is created, and the owner is told by email."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import structlog
from django.core.cache import cache
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from egov.core.worker import tasks_run_pending
from egov.identity.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

REGISTER = "/en/account/register/"
FORM = {
    "last_name": "Мароз",
    "first_name": "Ганна",
    "patronymic": "Іванаўна",
    "personal_number": "4010190M101PB3",
    "email": "hanna@example.org",
    "password": "snowy-Lake-2026",
    "password_repeat": "snowy-Lake-2026",
}
OTHER_NUMBER = "4010190M102PB6"
NOTICE_SUBJECT = "Someone tried to register with your details"


def _answer(client: Any, form: dict[str, str], path: str = REGISTER) -> tuple[int, str, str]:
    """The status and address of the answer to the form, and the page it leads to, without
    the CSRF token (the only part that differs from one visit to the next)."""
    response = client.post(path, form)
    tasks_run_pending()
    page = client.get(response["Location"]).content.decode() if response.status_code == 302 else ""
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)
    return response.status_code, response.get("Location", ""), page


def _new_registration(client: Any, mailbox: Any, form: dict[str, str]) -> tuple[int, str, str]:
    """What a registration with new details answers, leaving no trace behind."""
    answer = _answer(client, form)
    assert User.objects.filter(email=form["email"]).count() == 1
    User.objects.filter(email=form["email"]).delete()
    mailbox.messages.clear()
    return answer


def _owner(**fields: Any) -> User:
    owner: User = UserFactory(language="ru", email_verified=True, is_active=True, **fields)
    return owner


@pytest.mark.parametrize(
    "taken",
    [
        {"email": FORM["email"], "personal_number": OTHER_NUMBER},
        {"email": "owner@example.org", "personal_number": FORM["personal_number"]},
        {"email": FORM["email"].upper(), "personal_number": FORM["personal_number"]},
    ],
    ids=["email", "number", "both"],
)
def test_taken_details_get_the_same_answer_as_new_ones_and_create_nothing(
    client: Any, mailbox: Any, taken: dict[str, str]
) -> None:
    new = _new_registration(client, mailbox, FORM)
    owner = _owner(**taken)
    users_before = set(User.objects.values_list("pk", flat=True))

    existing = _answer(client, FORM)

    assert existing == new
    assert new[:2] == (302, "/en/account/register/check-email/")
    assert "Check your email" in new[2]
    assert set(User.objects.values_list("pk", flat=True)) == users_before
    assert User.objects.get(pk=owner.pk).first_name == owner.first_name
    assert [message["To"] for message in mailbox.messages] == [owner.email]


def test_the_owner_is_told_in_their_language_with_links_to_log_in(
    client: Any, mailbox: Any
) -> None:
    owner = _owner(email="owner@example.org", personal_number=FORM["personal_number"])

    client.post(REGISTER, FORM)
    tasks_run_pending()

    assert len(mailbox.messages) == 1
    message = mailbox.messages[0]
    assert message["To"] == "owner@example.org"
    body = message.get_payload(decode=True).decode()
    assert body.startswith(f"Здравствуйте, {owner.first_name}.")
    assert "http://127.0.0.1:8000/ru/account/login/" in body
    assert "/ru/account/password-reset/" in body
    assert FORM["email"] not in body and FORM["last_name"] not in body
    assert User.objects.get(pk=owner.pk).email == "owner@example.org"


def test_the_notice_is_in_english_for_an_english_owner(client: Any, mailbox: Any) -> None:
    UserFactory(email=FORM["email"], language="en", email_verified=True, is_active=True)

    client.post("/be/account/register/", FORM)
    tasks_run_pending()

    assert [message["Subject"] for message in mailbox.messages] == [NOTICE_SUBJECT]
    body = mailbox.messages[0].get_payload(decode=True).decode()
    assert "No new account was created" in body


def test_repeated_attempts_send_the_owner_one_notice_an_hour(client: Any, mailbox: Any) -> None:
    owner = _owner(email=FORM["email"], personal_number=OTHER_NUMBER)

    for _attempt in range(3):
        assert client.post(REGISTER, FORM)["Location"] == "/en/account/register/check-email/"
        tasks_run_pending()

    assert [message["To"] for message in mailbox.messages] == [owner.email]


def test_a_number_held_by_an_unconfirmed_account_gets_the_same_answer_and_no_email(
    client: Any, mailbox: Any
) -> None:
    new = _new_registration(client, mailbox, FORM)
    client.post(REGISTER, {**FORM, "email": "squatter@example.org"})
    tasks_run_pending()
    mailbox.messages.clear()
    users_before = set(User.objects.values_list("pk", flat=True))

    existing = _answer(client, FORM)

    assert existing == new
    assert set(User.objects.values_list("pk", flat=True)) == users_before
    assert mailbox.messages == []


def test_an_attempt_is_a_security_event_with_the_owner_id_only(client: Any, mailbox: Any) -> None:
    owner = _owner(email=FORM["email"], personal_number=OTHER_NUMBER)

    with structlog.testing.capture_logs() as events:
        client.post(REGISTER, FORM)
        tasks_run_pending()

    assert [
        event for event in events if event["event"] == "registration_attempt_with_existing_details"
    ] == [
        {
            "event": "registration_attempt_with_existing_details",
            "log_level": "warning",
            "user_id": owner.pk,
        }
    ]


def _queued() -> list[tuple[str, list[Any]]]:
    return [
        (task.task_path.rsplit(".", 1)[1], task.args_kwargs["args"])
        for task in DBTaskResult.objects.order_by("enqueued_at")
    ]


@pytest.mark.parametrize(
    "holder",
    [
        None,
        {"email": FORM["email"], "personal_number": OTHER_NUMBER, "email_verified": False},
        {"email": FORM["email"], "personal_number": OTHER_NUMBER, "email_verified": True},
        {"email": "owner@example.org", "personal_number": FORM["personal_number"], "told": True},
    ],
    ids=["new", "unconfirmed-owner", "confirmed-owner", "owner-told-this-hour"],
)
def test_every_registration_queues_exactly_one_task_and_sends_no_mail_in_the_request(
    client: Any, mailbox: Any, holder: dict[str, Any] | None
) -> None:
    owner = None
    if holder is not None:
        told = holder.pop("told", False)
        owner = UserFactory(language="ru", is_active=True, **{"email_verified": True, **holder})
        if told:
            User.objects.filter(pk=owner.pk).update(registration_notice_at=timezone.now())
    DBTaskResult.objects.all().delete()

    response = client.post(REGISTER, FORM)

    assert response["Location"] == "/en/account/register/check-email/"
    assert mailbox.messages == []
    if owner is None:
        user = User.objects.get(email=FORM["email"])
        assert _queued() == [("verification_email_send", [user.pk, "en", ""])]
    else:
        assert _queued() == [("registration_notice_send", [[owner.pk]])]
        assert User.objects.filter(email=FORM["email"]).count() == int(owner.email == FORM["email"])


def test_with_the_mail_server_down_taken_and_new_details_get_the_same_answer(
    client: Any, mailbox: Any, settings: Any
) -> None:
    from tests.ports import free_port

    settings.EMAIL_PORT = free_port()  # nothing listens there
    new = _answer(client, FORM)
    User.objects.filter(email=FORM["email"]).delete()
    _owner(email=FORM["email"], personal_number=OTHER_NUMBER)

    assert _answer(client, FORM) == new
    assert new[:2] == (302, "/en/account/register/check-email/")


def test_the_notice_is_sent_once_an_hour_whichever_process_answers(
    client: Any, mailbox: Any
) -> None:
    owner = _owner(email=FORM["email"], personal_number=OTHER_NUMBER)

    client.post(REGISTER, FORM)
    tasks_run_pending()
    cache.clear()  # another web process, another worker: nothing shared but the database
    client.post(REGISTER, FORM)
    tasks_run_pending()

    assert [message["To"] for message in mailbox.messages] == [owner.email]
    told_at = User.objects.get(pk=owner.pk).registration_notice_at
    assert told_at is not None

    User.objects.filter(pk=owner.pk).update(registration_notice_at=told_at - timedelta(hours=1))
    cache.clear()
    client.post(REGISTER, FORM)
    tasks_run_pending()

    assert [message["To"] for message in mailbox.messages] == [owner.email, owner.email]


def test_a_notice_the_mail_server_refused_is_sent_at_the_next_attempt(
    client: Any, mailbox: Any, settings: Any
) -> None:
    from tests.ports import free_port

    owner = _owner(email=FORM["email"], personal_number=OTHER_NUMBER)
    working_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()
    client.post(REGISTER, FORM)
    tasks_run_pending()
    assert User.objects.get(pk=owner.pk).registration_notice_at is None

    settings.EMAIL_PORT = working_port
    client.post(REGISTER, FORM)
    tasks_run_pending()

    assert [message["To"] for message in mailbox.messages] == [owner.email]
