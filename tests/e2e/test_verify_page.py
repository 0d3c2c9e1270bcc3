"""The public /verify page in a browser, in each language, with axe-core on every state: the
form, a mistyped code, a document found by the code printed on it (read from the demo
citizen's signed decision, as its holder would), a changed file and a file that is no PDF."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from egov.demo.applications import CITIZEN_EMAIL
from tests.e2e.conftest import check_accessibility, log_in

pytestmark = pytest.mark.browser

CODE = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")


def _submit(page, target) -> None:  # type: ignore[no-untyped-def]
    with page.expect_navigation():
        target.click()


def _signed_decision(page, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    """A signed document of the demo citizen's, downloaded from the cabinet."""
    log_in(page, CITIZEN_EMAIL)
    page.goto("/en/my-account/applications/")
    numbers = sorted(
        set(
            re.findall(
                r"/en/my-account/applications/([A-Z]+-\d{4}-\d+)/",
                page.content(),
            )
        )
    )
    link = page.locator("#issued-documents + ul a")
    for number in numbers:
        page.goto(f"/en/my-account/applications/{number}/")
        if link.count():
            break
    assert link.count(), f"none of the demo citizen's applications has a document: {numbers}"
    with page.expect_download() as downloaded:
        link.first.click()
    path = tmp_path / "decision.pdf"
    downloaded.value.save_as(path)
    return path


def test_verify_page_by_code_and_upload_in_each_language(page, browser, platform, tmp_path):
    decision = _signed_decision(page, tmp_path)
    text = subprocess.run(
        ["pdftotext", str(decision), "-"], capture_output=True, text=True, check=True
    ).stdout
    found = CODE.search(text)
    assert found, text
    code = found.group(0)
    changed = bytearray(decision.read_bytes())
    position = changed.index(b"/Type /Page") + 2
    changed[position] = ord("X")
    (tmp_path / "changed.pdf").write_bytes(bytes(changed))
    (tmp_path / "notes.pdf").write_bytes(b"plain text, not a PDF")

    visitor = browser.new_context(base_url=platform).new_page()  # anyone, not logged in
    visitor.set_default_timeout(15000)
    for language in ("be", "ru", "en"):
        visitor.goto(f"/{language}/verify/")
        assert visitor.locator("html").get_attribute("lang") == language
        check_accessibility(visitor)

        visitor.locator("#code").fill("nonsense")
        _submit(visitor, visitor.locator("form").first.locator("button"))
        assert visitor.locator(".govuk-error-summary").count() == 1
        check_accessibility(visitor)

        # Typed as a person might: lower case, spaces for dashes.
        visitor.locator("#code").fill(code.lower().replace("-", " "))
        _submit(visitor, visitor.locator("form").first.locator("button"))
        assert visitor.url.endswith(f"/{language}/verify/{code.replace('-', '')}/"), visitor.url
        assert visitor.locator("#verdict.govuk-panel--confirmation").count() == 1  # valid
        check_accessibility(visitor)

        visitor.goto(f"/{language}/verify/")
        visitor.locator("#document").set_input_files(str(tmp_path / "changed.pdf"))
        _submit(visitor, visitor.locator("form").nth(1).locator("button"))
        assert visitor.locator(".govuk-notification-banner #verdict").count() == 1  # not valid
        check_accessibility(visitor)

        visitor.goto(f"/{language}/verify/")
        visitor.locator("#document").set_input_files(str(tmp_path / "notes.pdf"))
        _submit(visitor, visitor.locator("form").nth(1).locator("button"))
        assert visitor.locator(".govuk-error-summary").count() == 1
        check_accessibility(visitor)
    visitor.context.close()
