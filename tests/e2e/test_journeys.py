"""The journeys a newcomer and an official make, in a real browser."""

from __future__ import annotations

import re
import time

import pytest
from django_otp.oath import totp
from playwright.sync_api import expect

from egov.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD
from tests.e2e.conftest import check_accessibility, enter_code

pytestmark = pytest.mark.browser


def account(email: str):  # type: ignore[no-untyped-def]
    return next(a for a in DEMO_ACCOUNTS if a.email == email)


def test_newcomer_finds_a_passport_service_switches_language_and_logs_in(page):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/be/$"))
    check_accessibility(page)

    page.get_by_role("navigation", name="Мова").get_by_role("link", name="Русский").click()
    expect(page).to_have_url(re.compile(re.escape("/ru/") + "$"))
    assert page.locator("html").get_attribute("lang") == "ru"
    check_accessibility(page)

    page.locator("#home-search").fill("паспорт")
    page.locator("#home-search").press("Enter")
    expect(page).to_have_url(re.compile(re.escape("/ru/search/?q=")))
    check_accessibility(page)
    first = page.locator(".egov-service-list__item h2 a").first
    title = first.inner_text()
    assert "паспорт" in title.lower()
    first.click()
    expect(page).to_have_url(re.compile(r"/ru/services/[^/]+/$"))
    assert page.locator("h1").inner_text() == title
    check_accessibility(page)

    page.get_by_role("link", name="Беларуская").click()
    expect(page).to_have_url(re.compile(r"/be/services/[^/]+/$"))
    assert page.locator("html").get_attribute("lang") == "be"
    assert "пашпарт" in page.locator("h1").inner_text().lower()
    check_accessibility(page)

    page.locator("header a[href='/be/account/login/']").click()
    check_accessibility(page)
    citizen = account("citizen@demo.egov.example")
    page.locator("#id_username").fill(citizen.email)
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(re.compile(re.escape("/be/account/login/code/") + "$"))
    enter_code(page, citizen.totp_secret_hex)
    expect(page).to_have_url(re.compile(re.escape("/be/my-account/") + "$"))
    assert citizen.personal_number in page.content()
    check_accessibility(page)

    page.locator("header form button[type=submit]").click()
    expect(page).to_have_url(re.compile(re.escape("/be/") + "$"))
    assert page.locator("header form").count() == 0
    check_accessibility(page)


def test_official_logs_in_with_the_second_factor(page):
    clerk = account("clerk.mvd@demo.egov.example")
    page.goto("/en/account/login/")
    check_accessibility(page)
    page.locator("#id_username").fill(clerk.email)
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(re.compile(re.escape("/en/account/login/code/") + "$"))
    check_accessibility(page)

    page.locator("#id_token").fill("000000")
    page.locator("main button[type=submit]").click()
    # The page after the submit: waited for (is_visible() looks once, maybe at the old page).
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    check_accessibility(page)

    page.wait_for_timeout(1100)  # after a wrong code the next one is accepted after a second
    code = f"{totp(bytes.fromhex(clerk.totp_secret_hex)):06d}"
    page.locator("#id_token").fill(code)
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(re.compile(re.escape("/en/office/") + "$"))
    assert "Ministry of Internal Affairs" in page.content()
    check_accessibility(page)


def test_wrong_password_is_explained_and_pages_work_without_javascript(browser, platform):
    context = browser.new_context(base_url=platform, java_script_enabled=False)
    page = context.new_page()
    page.goto("/en/account/login/")
    page.locator("#id_username").fill("citizen@demo.egov.example")
    page.locator("#id_password").fill("not-the-password")
    page.locator("main button[type=submit]").click()
    assert "The email address or the password is not right" in page.content()
    page.goto("/en/search/?q=birth")
    assert page.locator(".egov-service-list__item").count() >= 1
    context.close()


def _wait_for_email(mailbox, recipient: str, subject_part: str):  # type: ignore[no-untyped-def]
    for _attempt in range(100):
        for message in list(mailbox.messages):
            if message["To"] == recipient and subject_part in message["Subject"]:
                return message
        time.sleep(0.1)
    raise AssertionError(f"no email to {recipient} about {subject_part!r}")


def test_citizen_registers_confirms_the_email_and_logs_in(page, smtp_mailbox):
    page.goto("/en/account/register/")
    check_accessibility(page)
    page.locator("main button[type=submit]").click()  # an empty form first
    # The page after the submit: waited for (is_visible() looks once, maybe at the old page).
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    check_accessibility(page)
    for field, value in {
        "last_name": "Мароз",
        "first_name": "Ганна",
        "patronymic": "",
        "personal_number": "4010190A555PB8",
        "email": "hanna.e2e@example.org",
        "password": "snowy-Lake-2026",
        "password_repeat": "snowy-Lake-2026",
    }.items():
        page.locator(f"#id_{field}").fill(value)
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(re.compile(re.escape("/en/account/register/check-email/") + "$"))
    check_accessibility(page)

    email = _wait_for_email(smtp_mailbox, "hanna.e2e@example.org", "")
    link = re.search(
        r"https?://\S+/account/register/confirm/\S+", email.get_payload(decode=True).decode()
    )
    assert link is not None
    page.goto(link.group(0))
    expect(page).to_have_url(re.compile(re.escape("/en/account/login/") + "$"))
    assert "Your email address is confirmed" in page.content()
    page.locator("#id_username").fill("hanna.e2e@example.org")
    page.locator("#id_password").fill("snowy-Lake-2026")
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(re.compile(re.escape("/en/my-account/") + "$"))
    assert "4010190A555PB8" in page.content()
