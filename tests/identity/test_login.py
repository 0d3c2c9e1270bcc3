import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.utils import timezone

from egov.identity.services import SESSION_LOGIN_AT, SESSION_SEEN_AT
from tests.factories import PASSWORD, OfficialFactory, UserFactory, current_code, totp_device

pytestmark = pytest.mark.django_db

LOGIN = "/en/account/login/"


def login(client, email, password=PASSWORD, **extra):
    return client.post(LOGIN, {"username": email, "password": password, **extra})


def test_citizen_logs_in_with_password_at_low_assurance(client):
    citizen = UserFactory()
    response = login(client, citizen.email)
    assert response.status_code == 302
    assert response["Location"] == "/en/my-account/"
    assert client.session[SESSION_KEY] == str(citizen.pk)
    assert client.session["egov_loa"] == "low"


def test_wrong_password_says_so_in_the_page_language_and_logs_nobody_in(client):
    citizen = UserFactory()
    response = client.post(
        "/ru/account/login/", {"username": citizen.email, "password": "wrong-password"}
    )
    assert response.status_code == 200
    assert "Неверный адрес электронной почты или пароль" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_empty_login_form_lists_both_errors(client):
    response = client.post(LOGIN, {"username": "", "password": ""})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Enter your email address" in body
    assert "Enter your password" in body
    assert 'href="#id_username"' in body


def test_failed_logins_are_throttled_with_a_clear_message(client):
    citizen = UserFactory()
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        login(client, citizen.email, "wrong-password")
    response = login(client, citizen.email)  # even the right password waits now
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_throttling_is_per_account(client):
    victim, other = UserFactory(), UserFactory()
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        login(client, victim.email, "wrong-password")
    assert login(client, other.email).status_code == 302


def test_inactive_account_cannot_log_in(client):
    citizen = UserFactory(is_active=False)
    response = login(client, citizen.email)
    assert response.status_code == 200
    assert SESSION_KEY not in client.session


def test_open_redirect_is_refused(client):
    citizen = UserFactory()
    response = login(client, citizen.email, next="https://evil.example/")
    assert response["Location"] == "/en/my-account/"


def test_official_needs_the_code_before_the_session_exists(client, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # throttling has its own test
    official = OfficialFactory()
    device = totp_device(official)
    response = login(client, official.email)
    assert response["Location"] == "/en/account/login/code/"
    assert SESSION_KEY not in client.session
    assert client.get("/en/office/")["Location"].startswith("/en/account/login/")

    wrong = client.post("/en/account/login/code/", {"token": "000000"})
    assert wrong.status_code == 200
    assert "The code is not right" in wrong.content.decode()
    assert SESSION_KEY not in client.session

    response = client.post("/en/account/login/code/", {"token": current_code(device)})
    assert response["Location"] == "/en/office/"
    assert client.session["egov_loa"] == "substantial"
    page = client.get("/en/office/")
    assert page.status_code == 200
    assert "Back office" in page.content.decode()


def test_wrong_codes_slow_down_further_attempts(client):
    official = OfficialFactory()
    device = totp_device(official)
    login(client, official.email)
    client.post("/en/account/login/code/", {"token": "000000"})
    response = client.post("/en/account/login/code/", {"token": current_code(device)})
    assert "Too many wrong codes" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_code_page_without_password_step_sends_back_to_login(client):
    response = client.get("/en/account/login/code/")
    assert response["Location"] == LOGIN


def test_official_without_an_app_must_set_one_up(client):
    official = OfficialFactory()
    response = login(client, official.email)
    assert response["Location"] == "/en/account/login/set-up-app/"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "<svg" in page.content.decode()
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user=official, confirmed=False)
    response = client.post("/en/account/login/set-up-app/", {"token": current_code(device)})
    assert response["Location"] == "/en/office/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.session["egov_loa"] == "substantial"


def test_citizen_with_an_app_is_asked_for_the_code(client):
    citizen = UserFactory()
    device = totp_device(citizen)
    assert login(client, citizen.email)["Location"] == "/en/account/login/code/"
    client.post("/en/account/login/code/", {"token": current_code(device)})
    assert client.session["egov_loa"] == "substantial"


def test_citizen_turns_on_the_second_factor_from_the_account(client):
    citizen = UserFactory()
    client.force_login(citizen)
    page = client.get("/en/account/two-factor/")
    assert page.status_code == 200
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user=citizen, confirmed=False)
    bad = client.post("/en/account/two-factor/", {"token": "12"})
    assert bad.status_code == 200
    device.refresh_from_db()
    assert not device.confirmed
    response = client.post("/en/account/two-factor/", {"token": current_code(device)})
    assert response["Location"] == "/en/my-account/"
    device.refresh_from_db()
    assert device.confirmed


def test_logout_needs_post(client):
    citizen = UserFactory()
    client.force_login(citizen)
    assert client.get("/en/account/logout/").status_code == 405
    assert SESSION_KEY in client.session
    response = client.post("/en/account/logout/")
    assert response["Location"] == "/en/"
    assert SESSION_KEY not in client.session


def test_citizen_cannot_open_the_back_office(client):
    client.force_login(UserFactory())
    assert client.get("/en/office/").status_code == 403


def test_official_without_second_factor_in_session_is_asked_for_it(client):
    official = OfficialFactory()
    totp_device(official)
    client.force_login(official)
    response = client.get("/en/office/")
    assert response["Location"].startswith("/en/account/verify/")


def test_admin_site_needs_an_admin_with_second_factor(client):
    admin = UserFactory(kind="admin", personal_number=None, is_superuser=True)
    device = totp_device(admin)
    chain = client.get("/en/admin/", follow=True).redirect_chain
    assert chain[-1][0] == "/en/account/login/?next=%2Fen%2Fadmin%2F"
    login(client, admin.email)
    client.post("/en/account/login/code/", {"token": current_code(device)})
    assert client.get("/en/admin/").status_code == 200
    assert client.get("/en/admin/catalog/service/").status_code == 200


@pytest.mark.parametrize("kind", ["citizen", "official", "admin_without_code"])
def test_only_a_verified_admin_reaches_the_admin(client, kind):
    if kind == "official":
        user = OfficialFactory()
    elif kind == "admin_without_code":
        user = UserFactory(kind="admin", personal_number=None, is_superuser=True)
        totp_device(user)
    else:
        user = UserFactory()
    client.force_login(user)
    chain = client.get("/en/admin/", follow=True).redirect_chain
    assert chain[-1][0].startswith("/en/account/login/")
    assert client.get("/en/admin/catalog/service/").status_code == 302


def test_the_password_alone_cannot_swap_in_a_new_app(client):
    """The set-up step is for accounts without an app; with one, only its code opens."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    official = OfficialFactory()
    device = totp_device(official)
    login(client, official.email)
    response = client.get("/en/account/login/set-up-app/")
    assert response["Location"] == "/en/account/login/code/"
    response = client.post("/en/account/login/set-up-app/", {"token": "123456"})
    assert response["Location"] == "/en/account/login/code/"
    assert SESSION_KEY not in client.session
    assert list(TOTPDevice.objects.filter(user=official)) == [device]


def test_replacing_the_app_needs_a_code_from_the_current_one(client, mailbox):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    citizen = UserFactory()
    device = totp_device(citizen)
    client.force_login(citizen)  # a password-only session
    response = client.get("/en/account/two-factor/")
    assert response["Location"].startswith("/en/account/verify/?next=")
    assert not TOTPDevice.objects.filter(user=citizen, confirmed=False).exists()
    client.post(response["Location"], {"token": current_code(device)})
    page = client.get("/en/account/two-factor/")
    assert page.status_code == 200
    new = TOTPDevice.objects.get(user=citizen, confirmed=False)
    client.post("/en/account/two-factor/", {"token": current_code(new)})
    assert list(TOTPDevice.objects.filter(user=citizen)) == [new]
    notice = mailbox.messages[-1]
    assert notice["To"] == citizen.email
    assert "replaced" in notice.get_payload(decode=True).decode()


def test_an_empty_post_says_what_is_missing(client):
    body = client.post(LOGIN, {}).content.decode()
    assert "Enter your email address" in body
    body = client.post("/en/account/register/", {}).content.decode()
    assert "Enter your last name" in body


def _age_session(client, *, idle_minutes=0, login_minutes=0):
    session = client.session
    now = timezone.now().timestamp()
    session[SESSION_SEEN_AT] = now - idle_minutes * 60
    session[SESSION_LOGIN_AT] = now - login_minutes * 60
    session.save()


def test_idle_citizen_session_ends(client):
    client.force_login(UserFactory())
    _age_session(client, idle_minutes=settings.SESSION_IDLE_MINUTES["public"] + 1)
    response = client.get("/en/my-account/")
    assert response["Location"] == "/en/account/login/?next=%2Fen%2Fmy-account%2F"
    assert SESSION_KEY not in client.session


def test_active_citizen_session_goes_on(client):
    client.force_login(UserFactory())
    _age_session(client, idle_minutes=settings.SESSION_IDLE_MINUTES["public"] - 1)
    assert client.get("/en/my-account/").status_code == 200


def test_absolute_limit_ends_even_an_active_session(client):
    client.force_login(UserFactory())
    _age_session(client, login_minutes=settings.SESSION_ABSOLUTE_MINUTES["public"] + 1)
    assert client.get("/en/my-account/").status_code == 302
    assert SESSION_KEY not in client.session


def test_officials_have_the_shorter_idle_limit(client):
    official = OfficialFactory()
    client.force_login(official)
    idle = settings.SESSION_IDLE_MINUTES["staff"] + 1
    assert idle < settings.SESSION_IDLE_MINUTES["public"]
    _age_session(client, idle_minutes=idle)
    assert client.get("/en/my-account/").status_code == 302
    assert SESSION_KEY not in client.session


def test_login_page_in_belarusian(client):
    response = client.get("/be/account/login/")
    assert response.status_code == 200
    assert '<html lang="be"' in response.content.decode()
