"""The e-ID login in a real browser: a demo person logs in with egov signer through its own
consent window and reaches a service that needs the high level of assurance; a person who
logged in with a password and a code raises the session to high with the e-ID when the
service asks. The login page and the signer's consent page pass axe."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import check_accessibility, log_in

pytestmark = pytest.mark.browser

CITIZEN = "citizen@demo.egov.example"
CITIZEN_NUMBER = "4150592M012PB5"
CITIZEN_EID_PASSWORD = "citizen-eid"
HIGH_SERVICE = "200.13.2"  # registration at the place of stay: high level of assurance


def _consent(popup, password: str = CITIZEN_EID_PASSWORD, *, check: bool = False) -> None:  # type: ignore[no-untyped-def]
    popup.wait_for_load_state()
    assert popup.url.startswith("http://127.0.0.1:")
    if check:
        check_accessibility(popup)
    popup.locator(f"label:has-text('{CITIZEN_NUMBER}')").click()
    popup.locator("#secret").fill(password)
    popup.locator("button.allow").click()


def test_citizen_logs_in_with_the_e_id_and_opens_a_high_service(browser, platform) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=platform, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(30000)
    page.goto("/en/account/login/")
    check_accessibility(page)
    with context.expect_page() as opened:
        page.locator("[data-eid-button]").click()
    popup = opened.value
    # A wrong password first: the signer says so in its own page and signs nothing.
    _consent(popup, "not-the-password", check=True)
    assert "Attempts left: 2." in popup.locator("#error").inner_text()
    check_accessibility(popup)
    popup.locator("#secret").fill(CITIZEN_EID_PASSWORD)
    popup.locator("button.allow").click()
    page.wait_for_url(re.compile(r"/en/my-account/$"))
    assert CITIZEN_NUMBER in page.content()

    page.goto(f"/en/services/{HIGH_SERVICE}/start/")
    assert "needs an electronic digital signature" not in page.content()
    assert page.locator("h1").count() == 1
    check_accessibility(page)
    context.close()


def test_a_password_login_steps_up_to_high_with_the_e_id(browser, platform) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=platform, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(30000)
    log_in(page, CITIZEN)
    page.goto(f"/en/services/{HIGH_SERVICE}/start/")
    assert "This service needs an electronic digital signature" in page.content()
    page.get_by_role("button", name="Confirm with e-ID").click()
    expect(page).to_have_url(re.compile(re.escape("/account/verify/?level=high")))
    check_accessibility(page)
    with context.expect_page() as opened:
        page.locator("[data-eid-button]").click()
    _consent(opened.value)
    page.wait_for_url(re.compile(rf"/en/services/{re.escape(HIGH_SERVICE)}/start/$"))
    assert "needs an electronic digital signature" not in page.content()
    context.close()
