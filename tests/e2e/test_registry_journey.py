"""Once only, in a real browser, through the real exchange: the form of residence
registration opens with the citizen's name and address from the population register (read
through the portal's gateway, the registries' gateway and the register), and "Who used my
data" lists that very read with the message id both gateways logged. A business
representative's organisations come from the legal entities register."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import check_accessibility, log_in

pytestmark = pytest.mark.browser


def test_form_is_prefilled_from_the_register_and_the_read_is_listed(browser, platform):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=platform, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(20000)
    log_in(page, "citizen@demo.egov.example")

    page.goto("/en/services/200.13.1/start/")
    check_accessibility(page)
    page.locator("main form[action$='/apply/'] button[type=submit]").click()

    prefilled = page.locator(".egov-prefilled")
    assert prefilled.count() >= 3
    text = page.locator("main").inner_text()
    assert "Каваленка" in text
    assert "Алена" in text
    assert "From the population register" in text
    assert page.locator("input[name=applicant_last_name]").count() == 0  # shown, not editable
    check_accessibility(page)

    page.goto("/en/my-account/data-access/")
    check_accessibility(page)
    rows = page.locator("table.govuk-table tbody tr")
    assert rows.count() >= 1
    newest = rows.first.inner_text()
    assert "Filling in the form" in newest
    assert re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", newest)
    context.close()


def test_business_representative_acts_for_the_companies_the_register_lists(browser, platform):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=platform, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(20000)
    log_in(page, "business@demo.egov.example")

    page.goto("/en/my-account/")
    check_accessibility(page)
    organisations = page.locator("main table").last.inner_text()
    assert "192541238" in organisations
    assert "Director (from the legal entities register)" in organisations

    # The login asked the legal entities register, and that read is on record too.
    page.goto("/en/my-account/data-access/")
    check_accessibility(page)
    assert "Checking which organisations you may act for" in page.locator("main table").inner_text()
    context.close()
