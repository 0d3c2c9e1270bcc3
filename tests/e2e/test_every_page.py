"""axe-core on every kind of page, in each language, as anonymous visitor, citizen,
business representative and official."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import check_accessibility, follow, log_in

pytestmark = pytest.mark.browser

PUBLIC = [
    "/",
    "/services/",
    "/services/?audience=businesses",
    "/services/200.13.1/",
    "/services/200.11.1.1/",
    "/search/?q=пашпарт",
    "/search/?q=zzzzqqq",
    "/search/?q=",
    "/life-events/",
    "/life-events/birth-of-a-child/",
    "/agencies/",
    "/agencies/MVD/",
    "/accessibility/",
    "/privacy/",
    "/cookies/",
    "/demo/mailbox/",
    "/account/login/",
    "/account/register/",
    "/account/password-reset/",
    "/account/password-reset/sent/",
    "/account/password-reset/x/y/",
    "/account/register/confirm/not-a-token/",
    "/no-such-page/",
]


@pytest.mark.parametrize("language", ["be", "ru", "en"])
def test_public_pages_have_no_accessibility_violations(page, language):
    for path in PUBLIC:
        page.goto(f"/{language}{path}")
        assert page.locator("h1").count() == 1, path
        check_accessibility(page)


def _log_in(page, email: str) -> None:  # type: ignore[no-untyped-def]
    log_in(page, email, language="ru")


def test_signed_in_pages_have_no_accessibility_violations(page):
    _log_in(page, "business@demo.egov.example")
    for path in [
        "/ru/my-account/",
        "/ru/account/two-factor/",
        "/ru/services/200.13.1/start/",
        "/ru/services/200.2.6/start/",
        "/be/services/",
    ]:
        page.goto(path)
        check_accessibility(page)
    assert "192541238" in page.goto("/ru/my-account/").text()


def test_back_office_has_no_accessibility_violations(page):
    _log_in(page, "decider.mintruda@demo.egov.example")
    expect(page).to_have_url(re.compile(re.escape("/ru/office/") + "$"))
    check_accessibility(page)
    page.goto("/be/office/")
    check_accessibility(page)
    page.goto("/ru/office/?due=overdue")
    check_accessibility(page)
    page.goto("/ru/office/?closed=1")
    check_accessibility(page)
    cases = page.locator("main table a.govuk-link")
    assert cases.count() > 0
    for index in range(min(cases.count(), 3)):
        page.goto("/ru/office/?closed=1")
        follow(page.locator("main table a.govuk-link").nth(index))
        check_accessibility(page)
    page.goto("/ru/office/")
    follow(page.locator("main table a.govuk-link").first)
    check_accessibility(page)


@pytest.mark.parametrize("language", ["be", "ru", "en"])
def test_cabinet_pages_have_no_accessibility_violations(page, language):
    log_in(page, "citizen@demo.egov.example", language=language)
    for path in [
        "/my-account/applications/",
        "/my-account/drafts/",
        "/my-account/inbox/",
        "/my-account/notifications/",
        "/my-account/api-tokens/",
    ]:
        page.goto(f"/{language}{path}")
        assert page.locator("h1").count() == 1, path
        check_accessibility(page)
    page.goto(f"/{language}/my-account/applications/")
    links = page.locator("main table a.govuk-link")
    assert links.count() >= 5
    for index in range(links.count()):
        page.goto(f"/{language}/my-account/applications/")
        follow(page.locator("main table a.govuk-link").nth(index))
        check_accessibility(page)
