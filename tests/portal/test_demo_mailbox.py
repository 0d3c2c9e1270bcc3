import re
from datetime import timedelta

import pytest
from django.test import Client, override_settings

from egov.core.worker import tasks_run_pending
from egov.identity.models import User
from egov.notifications.sms.contrib.loopback.provider import LoopbackSmsProvider
from tests.factories import PASSWORD, UserFactory, current_code, totp_device
from tests.identity.test_registration import FORM
from tests.identity.test_registration_enumeration import OTHER_NUMBER

pytestmark = pytest.mark.django_db

MAILBOX = "/en/demo/mailbox/"
RESET = "/en/account/password-reset/"
RESET_LINK = re.compile(r"http://127\.0\.0\.1:8000/en/account/password-reset/[^/\s]+/[^/\s]+/")
CONFIRM_LINK = re.compile(r"/en/account/register/confirm/[^/\s]+/")
SEEDED_CITIZEN = "citizen@demo.egov.example"


@pytest.fixture
def demo(settings, tmp_path):
    settings.EMAIL_BACKEND = "egov.demo.mailbox.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    settings.SMS_LOOPBACK_DIR = tmp_path / "sms"
    settings.DEMO_MODE = True
    return tmp_path


def reset_links(client: Client) -> list[str]:
    return sorted(set(RESET_LINK.findall(client.get(MAILBOX).content.decode())))


def registered(client: Client, form: dict[str, str]) -> User:
    """Register in this browser, let the worker send the confirmation, and confirm it."""
    client.post("/en/account/register/", form)
    tasks_run_pending()
    confirm = CONFIRM_LINK.search(client.get(MAILBOX).content.decode())
    assert confirm is not None
    client.get(confirm.group(0), follow=True)
    user = User.objects.get(email=form["email"])
    assert user.email_verified is True
    return user


def verified_admin() -> Client:
    admin = UserFactory(kind="admin", personal_number=None, is_superuser=True)
    device = totp_device(admin)
    client = Client()
    client.post("/en/account/login/", {"username": admin.email, "password": PASSWORD})
    client.post("/en/account/login/code/", {"token": current_code(device)})
    return client


def test_demo_mailbox_shows_the_confirmation_link(client, demo):
    client.post("/en/account/register/", FORM)
    tasks_run_pending()
    page = client.get(MAILBOX).content.decode()
    assert "Confirm your email address" in page
    assert 'href="http://127.0.0.1:8000/en/account/register/confirm/' in page
    assert FORM["email"] in page


def test_each_browser_sees_only_the_mail_of_the_address_it_registered(demo):
    first, second = Client(), Client()
    registered(first, {**FORM, "email": "first@example.org"})
    registered(second, {**FORM, "email": "second@example.org", "personal_number": OTHER_NUMBER})

    first.post(RESET, {"email": "first@example.org"})
    tasks_run_pending()
    second.post(RESET, {"email": "second@example.org"})
    tasks_run_pending()

    first_links, second_links = reset_links(first), reset_links(second)
    assert len(first_links) == 1
    assert len(second_links) == 1
    assert first_links != second_links
    first_page = first.get(MAILBOX).content.decode()
    second_page = second.get(MAILBOX).content.decode()
    assert "first@example.org" in first_page
    assert "second@example.org" not in first_page
    assert "second@example.org" in second_page
    assert "first@example.org" not in second_page

    fresh = Client()
    fresh_page = fresh.get(MAILBOX).content.decode()
    assert reset_links(fresh) == []
    assert "first@example.org" not in fresh_page
    assert "second@example.org" not in fresh_page
    assert "No emails yet." in fresh_page

    assert sorted(reset_links(verified_admin())) == sorted(first_links + second_links)


def test_a_stranger_asking_to_reset_a_seeded_account_sees_nothing(demo):
    stranger = Client()

    stranger.post(RESET, {"email": SEEDED_CITIZEN})
    tasks_run_pending()

    page = stranger.get(MAILBOX).content.decode()
    assert reset_links(stranger) == []
    assert SEEDED_CITIZEN not in page
    assert "No emails yet." in page
    assert len(reset_links(verified_admin())) == 1


def test_the_owner_of_a_seeded_account_signed_in_sees_the_reset_email_to_it(demo):
    Client().post(RESET, {"email": SEEDED_CITIZEN})
    tasks_run_pending()
    owner = Client()
    owner.force_login(User.objects.get(email=SEEDED_CITIZEN))

    links = reset_links(owner)

    assert len(links) == 1
    assert links == reset_links(verified_admin())
    other = Client()
    other.force_login(UserFactory(email="someone.else@example.org"))
    assert reset_links(other) == []


def test_a_registration_attempt_with_someone_elses_address_claims_nothing(demo):
    owner, stranger = Client(), Client()
    User.objects.filter(pk=registered(owner, FORM).pk).update(language="en")

    stranger.post("/en/account/register/", {**FORM, "personal_number": OTHER_NUMBER})
    tasks_run_pending()
    stranger.post(RESET, {"email": FORM["email"]})
    tasks_run_pending()

    assert FORM["email"] not in stranger.get(MAILBOX).content.decode()
    assert reset_links(stranger) == []
    assert len(reset_links(owner)) == 1
    assert "Someone tried to register with your details" in owner.get(MAILBOX).content.decode()


def test_a_browser_asking_to_reset_an_address_registered_elsewhere_never_sees_the_link(demo):
    owner, stranger = Client(), Client()
    registered(owner, FORM)

    stranger.post(RESET, {"email": FORM["email"]})
    tasks_run_pending()

    assert FORM["email"] not in stranger.get(MAILBOX).content.decode()
    assert reset_links(stranger) == []
    assert len(reset_links(owner)) == 1


def test_a_freed_address_registered_again_elsewhere_goes_to_the_new_browser(demo, settings):
    squatter, person = Client(), Client()
    squatter.post("/en/account/register/", FORM)
    tasks_run_pending()
    User.objects.filter(email=FORM["email"]).update(
        date_joined=User.objects.get(email=FORM["email"]).date_joined
        - timedelta(seconds=settings.EMAIL_VERIFICATION_SECONDS + 60)
    )
    squatter_links = set(CONFIRM_LINK.findall(squatter.get(MAILBOX).content.decode()))

    registered(person, FORM)
    person.post(RESET, {"email": FORM["email"]})
    tasks_run_pending()

    assert set(CONFIRM_LINK.findall(squatter.get(MAILBOX).content.decode())) == squatter_links
    assert len(squatter_links) == 1
    assert reset_links(squatter) == []
    assert len(reset_links(person)) == 1


def test_an_admin_without_the_second_factor_sees_only_their_own_mail(demo):
    first = Client()
    UserFactory(email="first@example.org")
    first.post(RESET, {"email": "first@example.org"})
    tasks_run_pending()
    admin = UserFactory(kind="admin", personal_number=None, is_superuser=True)
    totp_device(admin)
    half_logged_in = Client()
    half_logged_in.post("/en/account/login/", {"username": admin.email, "password": PASSWORD})

    assert reset_links(half_logged_in) == []
    assert len(reset_links(verified_admin())) == 1


def test_text_messages_are_shown_to_their_account_and_to_an_admin_only(demo):
    citizen = UserFactory(phone="+375291234567")
    LoopbackSmsProvider().send(phone="+375291234567", text="Decision ready", reference="r1")
    LoopbackSmsProvider().send(phone="+375297654321", text="Other person", reference="r2")
    own = Client()
    own.force_login(citizen)

    own_page = own.get(MAILBOX).content.decode()
    anonymous_page = Client().get(MAILBOX).content.decode()
    admin_page = verified_admin().get(MAILBOX).content.decode()

    assert "Decision ready" in own_page
    assert "+375297654321" not in own_page
    assert "Other person" not in own_page
    assert "+375291234567" not in anonymous_page
    assert "Decision ready" not in anonymous_page
    assert "Decision ready" in admin_page
    assert "Other person" in admin_page


def test_demo_mailbox_does_not_exist_outside_the_demo(client):
    with override_settings(DEMO_MODE=False):
        assert client.get(MAILBOX).status_code == 404
