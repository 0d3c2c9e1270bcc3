import pytest
from django.test import override_settings

from tests.identity.test_registration import FORM

pytestmark = pytest.mark.django_db


def test_demo_mailbox_shows_the_confirmation_link(client, settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path
    settings.DEMO_MODE = True
    client.post("/en/account/register/", FORM)
    page = client.get("/en/demo/mailbox/").content.decode()
    assert "Confirm your email address" in page
    assert 'href="http://127.0.0.1:8000/en/account/register/confirm/' in page
    assert FORM["email"] in page


def test_demo_mailbox_does_not_exist_outside_the_demo(client):
    with override_settings(DEMO_MODE=False):
        assert client.get("/en/demo/mailbox/").status_code == 404
