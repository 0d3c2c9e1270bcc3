"""Browser tests: the real server (gunicorn, as `make demo` runs it) on a seeded database of
its own, driven by Debian's Chromium through Playwright, with axe-core on every page."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse, urlsplit

import pytest

from tests.conftest import ROOT, free_port

CHROMIUM = "/usr/bin/chromium"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


def pytest_collection_modifyitems(config, items):  # type: ignore[no-untyped-def]
    if os.path.exists(CHROMIUM):
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(f"{CHROMIUM} is missing: CI never skips the browser tests")
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is not installed; browser tests skipped")
    for item in items:
        if "e2e" in item.nodeid:
            item.add_marker(skip)


def _postgres_database(url: str, name: str, action: str) -> None:
    import psycopg

    parsed = urlparse(url)
    with psycopg.connect(
        host=parsed.hostname,
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        dbname="postgres",
        autocommit=True,
    ) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if action == "create":
            connection.execute(f'CREATE DATABASE "{name}"')


def _wait_for_exchange(client_port: int) -> None:
    """Until the portal's gateway has the central registry's configuration and reaches the
    population register through the other gateway (asked on its plain side by the training
    subsystem, whose connection type is HTTP)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{client_port}/r1/BY/GOV/MVD/population/listMethods",
        headers={"X-Road-Client": "BY/GOV/NCES/training", "Accept": "application/json"},
    )
    for _attempt in range(150):
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the exchange did not start")


@pytest.fixture(scope="session")
def platform(smtp_server) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Start the platform like `make demo` does — web server and background worker — with
    email going to a real SMTP server on loopback; yield its base URL."""
    controller, _box = smtp_server
    data_dir = Path(tempfile.mkdtemp(prefix="egov-e2e-"))
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("EGOV_", "DJANGO_"))},
        "EGOV_DATA_DIR": str(data_dir),
        "EGOV_DEMO": "true",
        "EGOV_INSECURE_HTTP": "true",
        "EGOV_BASE_URL": f"http://127.0.0.1:{port}",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "EGOV_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(controller.port),
        "SECRET_KEY": "e2e-secret-" + "s" * 40,
    }
    base_database = os.environ.get("DATABASE_URL", "")
    database = None
    if base_database.startswith("postgres"):
        database = f"egov_e2e_{os.getpid()}"
        _postgres_database(base_database, database, "create")
        env["DATABASE_URL"] = urlparse(base_database)._replace(path=f"/{database}").geturl()
    egov = [sys.executable, "-m", "egov.cli"]
    # The exchange as `make demo` runs it, on ports of its own: the registries' web process and
    # the two gateways; the portal and the worker call registries through the TLS client side
    # of their gateway, each call with the certificate of the subsystem it speaks for.
    ports = {
        name: free_port() for name in ("registries", "pc", "pt", "ps", "ph", "rc", "rt", "rs", "rh")
    }
    # The person's e-ID signer, as `make demo` starts it, on a port of its own.
    signer_port = free_port()
    env["EGOV_SIGNER_URL"] = f"http://127.0.0.1:{signer_port}"
    env["EGOV_EXCHANGE_GATEWAY_URL"] = f"https://127.0.0.1:{ports['pt']}"
    subprocess.run([*egov, "demo", "--no-serve", "-v", "0"], env=env, check=True, timeout=600)
    subprocess.run(
        [
            *egov,
            "exchange",
            "setup",
            "--registries-url",
            f"http://127.0.0.1:{ports['registries']}",
            "--central-url",
            f"http://127.0.0.1:{port}/exchange/globalconf",
            "--ports",
            json.dumps(
                {
                    "GW-PORTAL": {
                        "client": ports["pc"],
                        "client_tls": ports["pt"],
                        "server": ports["ps"],
                        "health": ports["ph"],
                    },
                    "GW-REGISTRIES": {
                        "client": ports["rc"],
                        "client_tls": ports["rt"],
                        "server": ports["rs"],
                        "health": ports["rh"],
                    },
                }
            ),
        ],
        env=env,
        check=True,
        timeout=120,
    )
    server = subprocess.Popen(
        [*egov, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"], env=env
    )
    worker = subprocess.Popen([*egov, "worker", "--interval", "0.2"], env=env)
    exchange = [
        subprocess.Popen(
            [*egov, "serve", "--bind", f"127.0.0.1:{ports['registries']}", "--workers", "2"],
            env={**env, "EGOV_ROOT_URLCONF": "egov.registries.urls"},
        ),
        subprocess.Popen([*egov, "gateway", "run", "GW-REGISTRIES"], env=env),
        subprocess.Popen([*egov, "gateway", "run", "GW-PORTAL"], env=env),
        subprocess.Popen(
            [
                *egov,
                "signer",
                "--pkcs12-dir",
                str(data_dir / "eid"),
                "--port",
                str(signer_port),
                "--allow-origin",
                f"http://127.0.0.1:{port}",
            ],
            env=env,
        ),
    ]
    base = f"http://127.0.0.1:{port}"
    try:
        for _attempt in range(100):
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("the platform did not start")
        _wait_for_exchange(ports["pc"])
        yield base
    finally:
        for process in [worker, server, *exchange]:
            process.terminate()
        for process in [worker, server, *exchange]:
            process.wait(timeout=20)
        shutil.rmtree(data_dir, ignore_errors=True)
        if database:
            _postgres_database(base_database, database, "drop")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def smtp_mailbox(smtp_server):  # type: ignore[no-untyped-def]
    """What the platform's SMTP server has received (the platform sends to it)."""
    return smtp_server[1]


@pytest.fixture
def page(browser, platform):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=platform, locale="be-BY")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def check_accessibility(page) -> None:  # type: ignore[no-untyped-def]
    """axe-core on the page as it is now: no WCAG 2.2 A/AA violation. Injected through
    evaluate, so the page's Content-Security-Policy stays on. A click that navigates returns
    once the new page has started loading: axe runs on it when it has loaded."""
    page.wait_for_load_state("load")
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
    )
    violations = [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
    ]
    assert violations == [], f"{page.url}: {json.dumps(violations, ensure_ascii=False)}"


def follow(link) -> None:  # type: ignore[no-untyped-def]
    """Click a link and wait until the browser is on the page it names."""
    href = link.get_attribute("href")
    assert href, "the link names no page"
    link.click()
    target = urlsplit(href).path
    link.page.wait_for_url(lambda url: urlsplit(url).path == target)


def enter_code(page, secret_hex: str) -> None:  # type: ignore[no-untyped-def]
    """Type the authenticator code. A code is accepted once: if another test used this one in
    the last 30 seconds, wait for the next."""
    import time

    from django_otp.oath import totp

    key = bytes.fromhex(secret_hex)
    page.locator("#id_token").fill(f"{totp(key):06d}")
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state("load")
    if page.url.endswith("/login/code/") and page.locator(".govuk-error-summary").count():
        time.sleep(30 - time.time() % 30 + 1)
        page.locator("#id_token").fill(f"{totp(key):06d}")
        page.locator("main button[type=submit]").click()


def log_in(page, email: str, language: str = "en") -> None:  # type: ignore[no-untyped-def]
    from egov.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD

    account = next(a for a in DEMO_ACCOUNTS if a.email == email)
    page.goto(f"/{language}/account/login/")
    page.locator("#id_username").fill(email)
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.locator("main button[type=submit]").click()
    if account.totp_secret_hex:
        enter_code(page, account.totp_secret_hex)
    assert "/account/login" not in page.url, page.url
