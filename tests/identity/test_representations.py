"""Rights to act for a company, from the legal entities register: directors are added and
ended as the register says; powers of attorney are left alone."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from egov.exchange.client import ExchangeUnavailable
from egov.identity.models import Representation
from egov.identity.selectors import representation_list
from egov.identity.services import representations_refresh
from tests.factories import PASSWORD, UserFactory, login
from tests.registrydata.stub import DIRECTED_BY_SERVICE

pytestmark = pytest.mark.django_db

LONG_AGO = datetime.date(2020, 1, 1)


def _entity(unp: str, name: str, status: str = "active") -> dict:
    return {
        "unp": unp,
        "name": {"be": f"ТАА «{name}»", "ru": f"ООО «{name}»"},
        "short_name": {"be": name, "ru": name},
        "legal_form": "ТАА",
        "status": status,
        "since": "2020-01-01",
    }


def _business():  # type: ignore[no-untyped-def]
    user = UserFactory(kind="business")
    rows = [
        ("190000001", "Кеплі", "director"),  # still listed
        ("190000002", "Былое", "director"),  # no longer listed
        ("190000003", "Даверанае", "mandate"),  # a power of attorney, not listed
        ("190000004", "Абое", "mandate"),  # a power of attorney, also listed as director
    ]
    for unp, name, basis in rows:
        Representation.objects.create(
            user=user, unp=unp, organisation_name=name, basis=basis, valid_from=LONG_AGO
        )
    return user


def _register_lists(exchange, user) -> None:  # type: ignore[no-untyped-def]
    exchange.answer(
        DIRECTED_BY_SERVICE,
        user.personal_number,
        {
            "personal_number": user.personal_number,
            "entities": [
                _entity("190000001", "Кеплі Новыя"),
                _entity("190000004", "Абое"),
                _entity("190000005", "Новае"),
                _entity("190000006", "Зачыненае", status="liquidated"),
            ],
        },
    )


def _rows(user) -> dict:  # type: ignore[no-untyped-def]
    return {
        row.unp: (row.organisation_name, row.basis, row.valid_from, row.valid_until)
        for row in Representation.objects.filter(user=user)
    }


def test_refresh_adds_ends_and_keeps_mandates(exchange):
    user = _business()
    _register_lists(exchange, user)
    today = timezone.localdate()
    assert representations_refresh(user=user) == {"added": 1, "kept": 1, "ended": 1}
    assert _rows(user) == {
        "190000001": ("Кеплі Новыя", "director", LONG_AGO, None),
        "190000002": ("Былое", "director", LONG_AGO, today),
        "190000003": ("Даверанае", "mandate", LONG_AGO, None),
        "190000004": ("Абое", "mandate", LONG_AGO, None),
        "190000005": ("Новае", "director", today, None),
    }
    assert [r.unp for r in representation_list(actor=user)] == [
        "190000004",
        "190000003",
        "190000001",
        "190000005",
    ]
    (call,) = exchange.calls(DIRECTED_BY_SERVICE)
    assert call.headers["X-Egov-Purpose"] == "representation"
    assert "X-Road-Issue" not in call.headers
    assert call.headers["X-Road-UserId"] == f"BY{user.personal_number}"
    assert call.headers["X-Road-Client"] == "BY/GOV/NCES/portal"


def test_refresh_with_the_register_down_changes_nothing(exchange):
    user = _business()
    before = _rows(user)
    exchange.down()
    with pytest.raises(ExchangeUnavailable):
        representations_refresh(user=user)
    assert _rows(user) == before


def test_login_of_a_business_user_refreshes_and_a_failure_only_logs(client, exchange):
    user = _business()
    _register_lists(exchange, user)
    response = client.post("/en/account/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert "190000005" in _rows(user)
    client.logout()
    exchange.down()
    response = client.post("/en/account/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert len(_rows(user)) == 5


def test_citizen_login_does_not_ask_the_register(client, exchange):
    user = UserFactory()
    client.post("/en/account/login/", {"username": user.email, "password": PASSWORD})
    assert exchange.received == []


def test_account_page_button_refreshes_and_shows_the_basis(client, exchange):
    user = _business()
    _register_lists(exchange, user)
    login(client, user)
    response = client.post("/en/my-account/organisations/refresh/", follow=True)
    html = response.content.decode()
    assert "The organisations you direct have been updated from the register." in html
    assert "Новае" in html
    assert "Director (from the legal entities register)" in html
    assert "Power of attorney" in html
    assert "Былое" not in html
    exchange.down()
    response = client.post("/en/my-account/organisations/refresh/", follow=True)
    assert "We cannot reach the legal entities register at the moment." in (
        response.content.decode()
    )


def test_a_citizen_cannot_use_the_refresh(client, exchange):
    login(client, UserFactory())
    assert client.post("/en/my-account/organisations/refresh/").status_code == 404
    assert exchange.received == []
