import re

import pytest
from django.test import Client, override_settings

from egov.identity.models import User
from egov.notifications.sms.contrib.loopback.provider import LoopbackSmsProvider
from tests.factories import PASSWORD, UserFactory, current_code, totp_device
from tests.identity.test_registration import FORM

pytestmark = pytest.mark.django_db

MAILBOX = "/en/demo/mailbox/"
RESET = "/en/account/password-reset/"
RESET_LINK = re.compile(r"http://127\.0\.0\.1:8000/en/account/password-reset/[^/\s]+/[^/\s]+/")


@pytest.fixture
def demo(settings, tmp_path):
    settings.EMAIL_BACKEND = "egov.demo.mailbox.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    settings.SMS_LOOPBACK_DIR = tmp_path / "sms"
    settings.DEMO_MODE = True
    return tmp_path


def reset_links(client: Client) -> list[str]:
    return sorted(set(RESET_LINK.findall(client.get(MAILBOX).content.decode())))


def verified_admin() -> Client:
    admin = UserFactory(kind="admin", personal_number=None, is_superuser=True)
    device = totp_device(admin)
    client = Client()
    client.post("/en/account/login/", {"username": admin.email, "password": PASSWORD})
    client.post("/en/account/login/code/", {"token": current_code(device)})
    return client


def test_demo_mailbox_shows_the_confirmation_link(client, demo):
    client.post("/en/account/register/", FORM)
    page = client.get(MAILBOX).content.decode()
    assert "Confirm your email address" in page
    assert 'href="http://127.0.0.1:8000/en/account/register/confirm/' in page
    assert FORM["email"] in page


def test_each_browser_sees_only_the_reset_email_it_asked_for(demo):
    UserFactory(email="first@example.org")
    UserFactory(email="second@example.org")
    first, second = Client(), Client()

    first.post(RESET, {"email": "first@example.org"})
    second.post(RESET, {"email": "second@example.org"})

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


def test_a_browser_asking_to_reset_an_address_registered_elsewhere_never_sees_the_link(demo):
    owner, stranger = Client(), Client()
    owner.post("/en/account/register/", FORM)
    confirm = re.search(
        r"/en/account/register/confirm/[^/\s]+/", owner.get(MAILBOX).content.decode()
    )
    assert confirm is not None
    owner.get(confirm.group(0), follow=True)
    assert User.objects.get(email=FORM["email"]).email_verified is True

    stranger.post(RESET, {"email": FORM["email"]})

    assert FORM["email"] not in stranger.get(MAILBOX).content.decode()
    assert reset_links(stranger) == []
    assert len(reset_links(owner)) == 1


def test_an_admin_without_the_second_factor_sees_only_their_own_mail(demo):
    first = Client()
    UserFactory(email="first@example.org")
    first.post(RESET, {"email": "first@example.org"})
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
