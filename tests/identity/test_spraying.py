"""Password spraying: one password tried against many accounts from one address is paused
after the per-address limit, while other addresses and the accounts themselves go on."""

from __future__ import annotations

import pytest
import structlog
from django.conf import settings
from django.contrib.auth import SESSION_KEY

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/en/account/login/"
ATTACKER = "203.0.113.7"
NEIGHBOUR = "198.51.100.20"
PAUSED = "to log in from your address, to different accounts"


def login(client, email: str, password: str, address: str):  # type: ignore[no-untyped-def]
    return client.post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR=address)


def test_thirty_accounts_one_wrong_password_each_pause_the_address_at_the_limit(client):
    assert settings.LOGIN_ADDRESS_FAILURE_LIMIT == 20
    accounts = [UserFactory() for _index in range(30)]

    statuses = [
        login(client, account.email, "Summer2026!", ATTACKER).status_code for account in accounts
    ]

    assert statuses == [200] * 19 + [429] * 11
    paused = login(client, accounts[0].email, PASSWORD, ATTACKER)  # even the right password
    assert paused.status_code == 429
    assert "Too many attempts" in paused.content.decode()
    assert PAUSED in paused.content.decode()
    assert SESSION_KEY not in client.session


def test_another_address_still_logs_in_while_one_address_is_paused(client):
    accounts = [UserFactory() for _index in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT)]
    for account in accounts:
        login(client, account.email, "Summer2026!", ATTACKER)
    assert login(client, accounts[0].email, PASSWORD, ATTACKER).status_code == 429

    response = login(client, accounts[0].email, PASSWORD, NEIGHBOUR)

    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(accounts[0].pk)


def test_a_successful_login_of_one_account_does_not_clear_the_address(client):
    own = UserFactory()
    accounts = [UserFactory() for _index in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT - 1)]
    for account in accounts:
        login(client, account.email, "Summer2026!", ATTACKER)
    assert login(client, own.email, PASSWORD, ATTACKER).status_code == 302
    client.logout()

    response = login(client, accounts[0].email, "Autumn2026!", ATTACKER)

    assert response.status_code == 429


def test_the_address_pause_in_russian(client):
    for _index in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT):
        client.post(
            "/ru/account/login/",
            {"username": UserFactory().email, "password": "x"},
            REMOTE_ADDR=ATTACKER,
        )

    response = client.post(
        "/ru/account/login/", {"username": "a@example.org", "password": "x"}, REMOTE_ADDR=ATTACKER
    )

    assert response.status_code == 429
    assert "Слишком много попыток" in response.content.decode()


def test_lockouts_are_security_events_with_the_address_and_account_id_only(client):
    accounts = [UserFactory() for _index in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT)]
    with structlog.testing.capture_logs() as events:
        for account in accounts:
            login(client, account.email, "Summer2026!", ATTACKER)
        login(client, "nobody@example.org", "Summer2026!", ATTACKER)

    lockouts = [event for event in events if event["event"] == "login_locked_out"]
    assert lockouts == [
        {
            "event": "login_locked_out",
            "log_level": "warning",
            "scope": "address",
            "ip": ATTACKER,
            "account_id": accounts[-1].pk,
        },
        {
            "event": "login_locked_out",
            "log_level": "warning",
            "scope": "address",
            "ip": ATTACKER,
            "account_id": None,
        },
    ]


def test_one_account_from_one_address_still_locks_at_the_account_limit(client):
    victim = UserFactory()
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        login(client, victim.email, "wrong", ATTACKER)

    response = login(client, victim.email, PASSWORD, ATTACKER)

    assert response.status_code == 429
    assert "to log in to this account from your address" in response.content.decode()
    assert PAUSED not in response.content.decode()


IPV6_NETWORK = "2001:db8:7:42"
IPV6_OTHER_NETWORK = "2001:db8:7:43"


def test_thirty_addresses_of_one_ipv6_64_count_as_one_address(client):
    accounts = [UserFactory() for _index in range(30)]

    statuses = [
        login(client, account.email, "Summer2026!", f"{IPV6_NETWORK}:{index:x}::{index + 1:x}")
        for index, account in enumerate(accounts)
    ]

    assert [response.status_code for response in statuses] == [200] * 19 + [429] * 11
    paused = login(client, accounts[0].email, PASSWORD, f"{IPV6_NETWORK}:ffff:1:2:3")
    assert paused.status_code == 429
    assert PAUSED in paused.content.decode()
    assert SESSION_KEY not in client.session


def test_another_ipv6_64_still_logs_in_while_one_is_paused(client):
    accounts = [UserFactory() for _index in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT)]
    for index, account in enumerate(accounts):
        login(client, account.email, "Summer2026!", f"{IPV6_NETWORK}::{index + 1:x}")
    assert login(client, accounts[0].email, PASSWORD, f"{IPV6_NETWORK}::abcd").status_code == 429

    response = login(client, accounts[0].email, PASSWORD, f"{IPV6_OTHER_NETWORK}::1")

    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(accounts[0].pk)


def test_ipv4_addresses_next_to_each_other_are_counted_apart(client):
    accounts = [UserFactory() for _index in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT)]
    for index, account in enumerate(accounts):
        login(client, account.email, "Summer2026!", f"203.0.113.{index + 1}")

    response = login(client, accounts[0].email, PASSWORD, "203.0.113.200")

    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(accounts[0].pk)
