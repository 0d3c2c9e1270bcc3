"""The trust journey in a real browser: the business representative logs in with the e-ID
signer (its consent page in a pop-up window), fills in a company registration, signs it in
the signer and sends it; the decision maker sees the signature checked and approves; the
applicant downloads the signed decision from the cabinet and checks it on /verify. Every
portal page passes axe."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import check_accessibility, log_in

pytestmark = pytest.mark.browser

BUSINESS = "business@demo.egov.example"
BUSINESS_NUMBER = "3010180A001PB8"
BUSINESS_EID_PASSWORD = "business-eid"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def _consent(popup) -> None:  # type: ignore[no-untyped-def]
    """The signer's own page: choose the representative's e-ID, type its password, allow."""
    popup.wait_for_load_state()
    popup.locator(f"label:has-text('{BUSINESS_NUMBER}')").click()
    popup.locator("#secret").fill(BUSINESS_EID_PASSWORD)
    popup.locator("button.allow").click()


def _submit(page, target) -> None:  # type: ignore[no-untyped-def]
    """Click and wait for the page the click loads: reading the page while it is being
    replaced reads nothing."""
    with page.expect_navigation():
        target.click()


def _open_case(page, number: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/en/office/")
    for _attempt in range(50):  # the automatic step runs in the background worker
        link = page.get_by_role("link", name=number)
        if link.count():
            _submit(page, link)
            break
        time.sleep(0.2)
        page.reload()
    assert page.locator("h1").inner_text().endswith(number)


def test_business_representative_signs_a_company_registration_and_verifies_the_decision(  # type: ignore[no-untyped-def]
    browser, platform, tmp_path: Path
):
    representative = browser.new_context(base_url=platform, locale="en-GB", accept_downloads=True)
    page = representative.new_page()
    page.set_default_timeout(30000)

    # 1. Log in with the e-ID: the signer asks for consent in its own window.
    page.goto("/en/account/login/")
    check_accessibility(page)
    with page.expect_popup() as opened:
        page.locator("[data-eid-button]").click()
    _consent(opened.value)
    page.wait_for_url(re.compile(r"^(?!.*/account/login).*$"))
    assert "/account/login" not in page.url

    # 2. The company registration, for the organisation the register lists him as director of.
    page.goto("/en/services/MGI-COMPANY-REG/start/")
    check_accessibility(page)
    page.locator("#on-behalf").select_option("192541238")
    _submit(page, page.locator("main form[action$='/apply/'] button[type=submit]"))
    text = page.locator("main").inner_text()
    assert "192541238" in text and "From the legal entities register" in text
    check_accessibility(page)
    _submit(page, page.locator("main form button[type=submit]").first)
    page.locator("input[name=company_name]").fill("Лясны двор")
    page.locator("input[name=legal_form][value=llc]").check()
    page.locator("input[name=registered_address]").fill("г. Мінск, вул. Сурганава, 2, пам. 5")
    page.locator("input[name=charter_capital]").fill("1000")
    page.locator("input[name=main_activity_code]").fill("02200")
    page.locator("input[name=name_approval_number]").fill("НА-2026-0042")
    page.locator("input[name=director_name]").fill("Шымановіч Андрэй Іванавіч")
    page.locator("input[name=email]").fill(BUSINESS)
    check_accessibility(page)
    _submit(page, page.locator("main form button[type=submit]").first)
    articles = tmp_path / "статут.pdf"
    articles.write_bytes(PDF)
    for requirement in ("articles", "duty_payment_proof"):
        form = page.locator(f"form:has(input[name=requirement][value={requirement}])")
        form.locator("input[type=file]").set_input_files(str(articles))
        _submit(page, form.locator("button[type=submit]"))
        assert "The file has been attached." in page.content()
    check_accessibility(page)
    page.goto(page.url.replace("/documents/", "/check/"))

    # 3. The check page shows what is signed; the signer signs it; the application is sent.
    assert "Application for “Registering a company” on behalf of ТАА «Лясны край»" in (
        page.locator("main").inner_text()
    )
    fingerprint = page.locator("[data-egov-fingerprint]").inner_text()
    assert re.fullmatch(r"[0-9a-f]{64}", fingerprint)
    check_accessibility(page)
    with page.expect_popup() as opened:
        page.get_by_role("button", name="Sign and submit application").click()
    _consent(opened.value)
    page.wait_for_url(re.compile(r"/my-account/applications/MGI-\d{4}-\d{6}/"))
    number = re.search(r"/my-account/applications/([A-Z]+-\d{4}-\d{6})/", page.url).group(1)
    check_accessibility(page)

    # 4. The decision maker sees the signature checked again and approves.
    office = browser.new_context(base_url=platform, locale="en-GB")
    decider = office.new_page()
    decider.set_default_timeout(30000)
    log_in(decider, "decider.mgi@demo.egov.example")
    _open_case(decider, number)
    body = " ".join(decider.locator("main").inner_text().split())
    assert "Signed by Шымановіч Андрэй" in body
    assert "Valid when it was signed and when the platform received it." in body
    assert fingerprint in body
    check_accessibility(decider)
    _submit(decider, decider.locator("#claim"))
    approve = decider.locator("form:has(input[name=transition][value=approve]) button[type=submit]")
    for _attempt in range(100):  # the register's check of the founder runs in the worker
        if approve.count() and approve.is_enabled():
            break
        time.sleep(0.2)
        decider.reload()
    _submit(decider, approve)
    assert "Registered" in decider.content()
    check_accessibility(decider)
    office.close()

    # 5. The representative downloads the signed decision and checks it on /verify.
    link = page.locator("#issued-documents + ul a")
    for _attempt in range(150):  # the worker signs the document
        page.goto(f"/en/my-account/applications/{number}/")
        if link.count():
            break
        time.sleep(0.2)
    check_accessibility(page)
    with page.expect_download() as downloaded:
        link.first.click()
    decision = tmp_path / "decision.pdf"
    downloaded.value.save_as(decision)
    assert decision.read_bytes().startswith(b"%PDF")
    page.goto("/en/verify/")
    check_accessibility(page)
    page.locator("#document").set_input_files(str(decision))
    _submit(page, page.get_by_role("button", name="Check the file"))
    assert page.locator("#verdict h1").inner_text() == "The signature is valid"
    assert "The file was not changed after it was signed." in page.locator("#verdict").inner_text()
    report = " ".join(page.locator("main").inner_text().split())
    signer = re.search(r"Signed by (.+?) Signing time", report)
    assert signer and signer.group(1).strip(), report
    assert re.search(r"Signing time \d{2}\.\d{2}\.\d{4} \d{2}:\d{2}:\d{2}", report)
    assert re.search(r"Timestamp \d{2}\.\d{2}\.\d{4} \d{2}:\d{2}:\d{2}", report), report
    assert "Certificate when signed valid" in report
    assert "Changed after signing no" in report
    check_accessibility(page)
    representative.close()
