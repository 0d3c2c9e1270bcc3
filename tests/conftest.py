"""Shared fixtures. The test environment itself is set by tests/environment.py."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from tests.ports import free_port
from tests.registrydata.stub import exchange, exchange_down  # noqa: F401  (fixtures for every test)

ROOT = Path(__file__).resolve().parent.parent


class Mailbox(Message):
    """Keeps every message the SMTP server receives."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list = []

    def handle_message(self, message) -> None:  # type: ignore[no-untyped-def]
        self.messages.append(message)


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[Controller, Mailbox]]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, mailbox
    controller.stop()


@pytest.fixture
def mailbox(smtp_server, settings) -> Mailbox:  # type: ignore[no-untyped-def]
    """A real SMTP server on loopback; the platform sends to it through Django's SMTP backend."""
    controller, box = smtp_server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    box.messages.clear()
    return box


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """The production logging configuration (JSON lines), its console handler writing to a
    buffer; the test settings' configuration is restored afterwards."""
    import logging.config

    from django.conf import settings

    from egov.core.logging import logging_config

    config = logging_config(json=True, level="INFO")
    stream = io.StringIO()
    config["handlers"]["console"]["stream"] = stream
    logging.config.dictConfig(config)
    yield stream
    logging.config.dictConfig(settings.LOGGING)


#: Password hashing in tests: a fast hasher first (the suite logs in thousands of times; the
#: spraying tests alone make hundreds of attempts), Argon2 still known so its hashes verify.
#: Production's Argon2 is tested on its own (tests/identity/test_password_hashing.py).
FAST_PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings as django_settings
    from django.contrib.auth.hashers import get_hashers, get_hashers_by_algorithm

    django_settings.PASSWORD_HASHERS = FAST_PASSWORD_HASHERS
    get_hashers.cache_clear()
    get_hashers_by_algorithm.cache_clear()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """The demo country, seeded once per run; each test runs in a transaction on top of it."""
    from egov.demo.seed import demo_seed

    with django_db_blocker.unblock():
        demo_seed()


@pytest.fixture(autouse=True)
def _english_outside_requests() -> Iterator[None]:
    """Code run outside a request speaks English in tests, whatever a previous test left
    active: the suite passes in any order. Tests of other languages override it."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _no_real_gateway(exchange_down: str) -> None:  # noqa: F811
    """No test reaches a gateway by accident (a demo may be running on 8080): the exchange
    is down unless a test starts the stub (`exchange`) or real gateways."""
    return None


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
