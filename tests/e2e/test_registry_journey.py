"""Once only, in a real browser, through the real exchange: the form of residence
registration opens with the citizen's name and address from the population register (read
through the TLS client side of the portal's gateway with the portal's certificate, the
registries' gateway and the register), and "Who used my data" lists that very read with its
purpose and legal basis and the request id the exchange gave it. A business
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
    newest = " ".join(rows.first.inner_text().split())
    # The purpose and its legal basis as the access right declares them, the service, and the
    # exchange's request id as the proof.
    assert "Prefilling the person's own application with their data from the register" in newest
    assert "Legal basis: Law of the Republic of Belarus No. 433-Z" in newest
    assert "Registering your place of residence" in newest
    assert re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", newest)
    assert "Exchange request id" in page.locator("table.govuk-table thead").inner_text()

    # The same record in Belarusian.
    page.goto("/be/my-account/data-access/")
    check_accessibility(page)
    newest_be = " ".join(page.locator("table.govuk-table tbody tr").first.inner_text().split())
    assert "Папярэдняе запаўненне заявы асобы яе данымі з рэгістра" in newest_be
    assert "Закон Рэспублікі Беларусь ад 28 кастрычніка 2008 г. № 433-З" in newest_be
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
    listed = " ".join(page.locator("main table").inner_text().split())
    assert "Establishing who may act on behalf of an organisation" in listed
    assert "Law of the Republic of Belarus No. 99-Z of 7 May 2021" in listed
    context.close()
