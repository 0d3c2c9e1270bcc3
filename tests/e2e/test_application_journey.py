"""The heart of the platform in a real browser: a citizen applies with documents, the clerk
asks for information, the citizen answers, the clerk prepares and the decision maker approves
(four-eyes), and the citizen reads the decision in the inbox; the email reaches the SMTP
server. axe-core runs on every page on the way."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import check_accessibility, log_in
from tests.factories import PDF

pytestmark = pytest.mark.browser

SERVICE = "200.11.2.5"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def _log_out(page) -> None:  # type: ignore[no-untyped-def]
    page.locator("header form button[type=submit]").click()


def _continue(page) -> None:  # type: ignore[no-untyped-def]
    page.locator("main form button[type=submit]").first.click()


def _wait_for_email(mailbox, recipient: str, subject_part: str):  # type: ignore[no-untyped-def]
    for _attempt in range(150):
        for message in list(mailbox.messages):
            if message["To"] == recipient and subject_part in message["Subject"]:
                return message
        time.sleep(0.1)
    subjects = [(m["To"], m["Subject"]) for m in mailbox.messages]
    raise AssertionError(f"no email to {recipient} about {subject_part!r}; got {subjects}")


def _open_case(page, number: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/en/office/")
    check_accessibility(page)
    for _attempt in range(50):  # the automatic step runs in the background worker
        link = page.get_by_role("link", name=number)
        if link.count():
            link.click()
            break
        time.sleep(0.2)
        page.reload()
    assert page.locator("h1").inner_text().endswith(number)
    check_accessibility(page)


def _act(page, code: str, comment: str = "") -> None:  # type: ignore[no-untyped-def]
    form = page.locator(f"form:has(input[name=transition][value={code}])")
    if comment:
        form.locator("textarea").fill(comment)
    form.locator("button[type=submit]").click()
    check_accessibility(page)


def test_apply_ask_answer_decide_and_read_the_decision(
    browser, platform, tmp_path: Path, smtp_mailbox
):  # type: ignore[no-untyped-def]
    photo, certificate, pages = tmp_path / "photo.png", tmp_path / "birth.pdf", tmp_path / "p.pdf"
    photo.write_bytes(PNG)
    certificate.write_bytes(PDF)
    pages.write_bytes(PDF)

    # Each person has a browser of their own and logs in once.
    people = {}
    for email in (
        "citizen@demo.egov.example",
        "clerk.mvd@demo.egov.example",
        "decider.mvd@demo.egov.example",
    ):
        context = browser.new_context(base_url=platform, locale="en-GB")
        people[email] = context.new_page()
        people[email].set_default_timeout(15000)
    citizen = people["citizen@demo.egov.example"]
    clerk = people["clerk.mvd@demo.egov.example"]
    decider = people["decider.mvd@demo.egov.example"]

    # 1. The citizen applies.
    page = citizen
    log_in(page, "citizen@demo.egov.example")
    page.goto(f"/en/services/{SERVICE}/start/")
    check_accessibility(page)
    page.get_by_role("button", name="Start now").click()
    expect(page).to_have_url(re.compile(re.escape("/my-account/drafts/")))
    check_accessibility(page)
    _continue(page)  # nothing filled in: every question says what is missing
    assert page.locator(".govuk-error-summary").is_visible()
    check_accessibility(page)
    page.locator("#f-child_personal_number").fill("6120315A012PB7")
    page.locator("#f-child_last_name").fill("Каваленка")
    page.locator("#f-child_first_name").fill("Марыя")
    page.locator("#f-child_birth_date").fill("12")
    page.locator("#f-child_birth_date-month").fill("3")
    page.locator("#f-child_birth_date-year").fill("2015")
    _continue(page)
    check_accessibility(page)
    page.locator("#f-current_passport_number").fill("MP1234567")
    page.locator("input[name=replacement_reason][value=damaged]").check()
    _continue(page)
    check_accessibility(page)
    page.locator("input[name=representative_relation][value=mother]").check()
    page.locator("input[name=accelerated][value=no]").check()
    page.locator("#f-phone").fill("+375291234567")
    _continue(page)
    expect(page).to_have_url(re.compile(re.escape("/documents/") + "$"))
    check_accessibility(page)
    for code, path in (
        ("child_photo", photo),
        ("birth_certificate", certificate),
        ("current_passport_pages", pages),
    ):
        page.locator(f"#file-{code}").set_input_files(str(path))
        page.locator(f"form:has(#file-{code}) button[type=submit]").click()
        assert page.locator(".govuk-error-summary").count() == 0, page.content()[:2000]
    check_accessibility(page)
    page.get_by_role("link", name="Continue").click()
    expect(page).to_have_url(re.compile(re.escape("/check/") + "$"))
    assert "Каваленка" in page.content() and "photo.png" in page.content()
    check_accessibility(page)
    page.get_by_role("button", name="Submit application").click()
    number = re.search(r"/my-account/applications/([A-Z]+-\d{4}-\d{6})/", page.url).group(1)
    assert number.startswith("MVD-2026-")
    check_accessibility(page)
    _wait_for_email(smtp_mailbox, "citizen@demo.egov.example", f"Application {number} received")

    # 2. The clerk takes the case and asks for information.
    page = clerk
    log_in(page, "clerk.mvd@demo.egov.example")
    _open_case(page, number)
    page.locator("#claim").click()
    check_accessibility(page)
    _act(page, "request_information", "")  # the question is required
    assert page.locator(".govuk-error-summary").is_visible()
    _act(page, "request_information", "Attach a scan of the damaged pages, please.")
    assert "Information requested" in page.content()

    # 3. The citizen answers.
    page = citizen
    page.goto(f"/en/my-account/applications/{number}/")
    assert "Attach a scan of the damaged pages, please." in page.content()
    check_accessibility(page)
    page.locator("#answer").fill("The scan is attached.")
    page.locator("#answer-files").set_input_files(str(pages))
    page.get_by_role("button", name="Send the answer").click()
    assert "Your answer has been sent to the agency." in page.content()
    check_accessibility(page)

    # 4. The clerk prepares the approval; the decision maker approves.
    page = clerk
    _open_case(page, number)
    assert "The scan is attached." in page.content()
    _act(page, "prepare_approval")
    assert page.locator("form:has(input[name=transition][value=approve])").count() == 0
    page = decider
    log_in(page, "decider.mvd@demo.egov.example")
    _open_case(page, number)
    _act(page, "approve", "The new passport will be ready in 7 working days.")
    assert "New passport approved" in page.content()

    # 5. The citizen reads the decision in the inbox; the email has arrived.
    page = citizen
    page.goto("/en/my-account/inbox/")
    check_accessibility(page)
    page.get_by_role("link", name=f"Application {number}: decision made").first.click()
    assert "has approved your application" in page.content()
    assert "The new passport will be ready in 7 working days." in page.content()
    check_accessibility(page)
    page.get_by_role("link", name=f"Open application {number}").click()
    check_accessibility(page)
    email = _wait_for_email(smtp_mailbox, "citizen@demo.egov.example", f"{number}: decision made")
    body = email.get_payload(decode=True).decode()
    assert "has approved your application" in body
    assert f"/en/my-account/applications/{number}/" in body
    for person in people.values():
        _log_out(person)
        person.context.close()
