import base64
import re
from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from egov.core.worker import tasks_run_pending
from egov.identity.models import User

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


def _register(client, form, path=REGISTER):  # type: ignore[no-untyped-def]
    """Post the form, then let the worker send what the registration queued."""
    response = client.post(path, form)
    tasks_run_pending()
    return response


def _link(message) -> str:
    body = message.get_payload(decode=True).decode()
    match = re.search(r"https?://\S+/account/register/confirm/\S+/", body)
    assert match, body
    return match.group(0)


def test_fixture_number_is_valid():
    from egov.identity.validators import validate_personal_number

    assert validate_personal_number(FORM["personal_number"]) == FORM["personal_number"]


def test_registration_sends_a_verification_email_that_activates_the_account(client, mailbox):
    response = client.post(REGISTER, FORM)
    assert response["Location"] == "/en/account/register/check-email/"
    assert mailbox.messages == []  # the worker sends it, not the request
    tasks_run_pending()
    user = User.objects.get(email="hanna@example.org")
    assert not user.is_active
    assert user.kind == "citizen"
    assert user.personal_number == "4010190M101PB3"
    assert len(mailbox.messages) == 1
    message = mailbox.messages[0]
    assert message["To"] == "hanna@example.org"
    assert message["Subject"] == "Confirm your email address"

    link = _link(message)
    path = link.split("127.0.0.1:8000", 1)[1]
    response = client.get(path)
    assert response["Location"] == "/en/account/login/"
    user.refresh_from_db()
    assert user.is_active and user.email_verified
    assert (
        client.post(
            "/en/account/login/", {"username": FORM["email"], "password": FORM["password"]}
        ).status_code
        == 302
    )
    assert SESSION_KEY in client.session

    again = client.get(path)
    assert again.status_code == 400
    assert "already confirmed" in again.content.decode()


def test_verification_email_is_in_the_page_language(client, mailbox):
    _register(client, FORM, "/ru/account/register/")
    assert mailbox.messages[0]["Subject"] != "Confirm your email address"
    assert "/ru/account/register/confirm/" in mailbox.messages[0].get_payload(decode=True).decode()


def test_expired_link_is_refused_and_changes_nothing(client, mailbox, settings):
    _register(client, FORM)
    path = _link(mailbox.messages[0]).split("127.0.0.1:8000", 1)[1]
    settings.EMAIL_VERIFICATION_SECONDS = -1
    response = client.get(path)
    assert response.status_code == 400
    assert "expired" in response.content.decode()
    assert not User.objects.get(email=FORM["email"]).is_active


def test_altered_link_is_refused(client, mailbox):
    _register(client, FORM)
    path = _link(mailbox.messages[0]).split("127.0.0.1:8000", 1)[1]
    response = client.get(path.replace(":", ";", 1)[:-3] + "xx/")
    assert response.status_code == 400
    assert not User.objects.get(email=FORM["email"]).is_active


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("personal_number", "4010190M101PB1", "check digit does not match"),
        ("personal_number", "12345", "has 14 characters"),
        ("email", "not-an-email", "Enter an email address in the correct format"),
        ("password_repeat", "something-else-9", "The passwords do not match"),
        ("password", "1234567890", "This password is entirely numeric."),
        ("last_name", "", "Enter your last name"),
    ],
)
def test_bad_input_gets_a_message_and_creates_nothing(client, mailbox, field, value, message):
    response = client.post(REGISTER, {**FORM, field: value})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.filter(email=FORM["email"]).exists()
    assert mailbox.messages == []


def test_malformed_number_message_is_translated(client, mailbox):
    response = client.post("/be/account/register/", {**FORM, "personal_number": "12345"})
    body = response.content.decode()
    assert "has 14 characters" not in body
    assert 'id="id_personal_number-error"' in body
    assert "Ідэнтыфікацыйны нумар складаецца з 14 знакаў" in body


def test_an_expired_unconfirmed_registration_does_not_block_the_real_person(
    client, mailbox, settings
):
    # Someone registers the person's number with their own address and never confirms it.
    client.post(REGISTER, {**FORM, "email": "squatter@example.org"})
    squatter = User.objects.get(email="squatter@example.org")
    User.objects.filter(pk=squatter.pk).update(
        date_joined=squatter.date_joined
        - timedelta(seconds=settings.EMAIL_VERIFICATION_SECONDS + 60)
    )
    response = client.post(REGISTER, FORM)
    assert response["Location"] == "/en/account/register/check-email/"
    assert not User.objects.filter(email="squatter@example.org").exists()
    assert User.objects.get(personal_number=FORM["personal_number"]).email == FORM["email"]


def test_the_link_does_not_carry_the_email_address(client, mailbox):
    _register(client, FORM)
    path = _link(mailbox.messages[0])
    token = path.rstrip("/").rsplit("/", 1)[1]
    payload = token.split(":", 1)[0]
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    assert b"hanna" not in decoded
    assert b"example.org" not in decoded


def _mail_server_down(settings):
    from tests.conftest import free_port

    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()  # nothing listens there
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


def test_when_mail_cannot_be_sent_the_answer_is_the_same_and_the_worker_sends_it_later(
    client, mailbox, settings
):
    working_port = settings.EMAIL_PORT
    _mail_server_down(settings)

    response = client.post(REGISTER, FORM)

    assert response["Location"] == "/en/account/register/check-email/"
    user = User.objects.get(email=FORM["email"])
    assert not user.is_active
    assert tasks_run_pending() == 1
    assert mailbox.messages == []
    retry = DBTaskResult.objects.get(
        task_path="egov.identity.tasks.verification_email_send", status=TaskResultStatus.READY
    )
    assert retry.args_kwargs["args"] == [user.pk, "en", "", 2]
    assert retry.run_after > timezone.now()

    settings.EMAIL_PORT = working_port
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())
    assert tasks_run_pending() == 1
    assert [message["To"] for message in mailbox.messages] == [FORM["email"]]
    assert "/en/account/register/confirm/" in _link(mailbox.messages[0])


def test_password_reset_with_mail_server_down_reveals_nothing_and_does_not_fail(client, settings):
    from tests.factories import UserFactory

    user = UserFactory(email="reset@example.org")
    _mail_server_down(settings)
    response = client.post("/en/account/password-reset/", {"email": "reset@example.org"})
    assert tasks_run_pending() == 1
    # the same answer as for an unknown address, so the page cannot be used to find accounts
    assert response["Location"] == "/en/account/password-reset/sent/"
    user.refresh_from_db()
    assert user.check_password("correct-Horse-42")


def test_password_reset_by_email(client, mailbox):
    from tests.factories import UserFactory

    user = UserFactory(email="reset@example.org")
    response = client.post("/en/account/password-reset/", {"email": "reset@example.org"})
    assert response["Location"] == "/en/account/password-reset/sent/"
    assert tasks_run_pending() == 1
    body = mailbox.messages[0].get_payload(decode=True).decode()
    path = re.search(r"http://127\.0\.0\.1:8000(/en/account/password-reset/\S+/)", body).group(1)
    form = client.get(path, follow=True)
    assert form.status_code == 200
    set_url = form.redirect_chain[-1][0]
    response = client.post(
        set_url, {"new_password1": "brand-New-Pass-7", "new_password2": "brand-New-Pass-7"}
    )
    assert response["Location"] == "/en/account/password-reset/done/"
    user.refresh_from_db()
    assert user.check_password("brand-New-Pass-7")
    reused = client.get(path, follow=True)
    assert "The link did not work" in reused.content.decode()


def test_password_reset_for_unknown_email_reveals_nothing(client, mailbox):
    response = client.post("/en/account/password-reset/", {"email": "nobody@example.org"})
    assert response["Location"] == "/en/account/password-reset/sent/"
    assert tasks_run_pending() == 1
    assert mailbox.messages == []
