from __future__ import annotations

import json

import pytest

from egov.exchange.central.models import (
    AccessRight,
    ConfigurationVersion,
    Gateway,
    Member,
    Service,
    Subsystem,
)
from egov.exchange.central.selectors import configuration_serial
from tests.exchange.central.factories import OPENAPI, small_registry
from tests.factories import PASSWORD, UserFactory, current_code, totp_device

MODELS = ["member", "gateway", "subsystem", "service", "accessright", "configurationversion"]


@pytest.fixture
def admin_client(client):  # type: ignore[no-untyped-def]
    admin = UserFactory(kind="admin", personal_number=None, is_superuser=True)
    device = totp_device(admin)
    client.post("/en/account/login/", {"username": admin.email, "password": PASSWORD})
    client.post("/en/account/login/code/", {"token": current_code(device)})
    return client


def test_every_page_loads_for_a_platform_admin(registry, admin_client):
    small = small_registry(registry)
    assert admin_client.get("/en/admin/").status_code == 200
    for model in MODELS:
        response = admin_client.get(f"/en/admin/exchange_central/{model}/")
        assert response.status_code == 200, model
    for model in MODELS[:-1]:
        assert admin_client.get(f"/en/admin/exchange_central/{model}/add/").status_code == 200
    for model, entry in [
        ("member", small.mvd),
        ("gateway", small.gateway),
        ("subsystem", small.population),
        ("service", small.person),
        ("accessright", small.right),
        ("configurationversion", ConfigurationVersion.objects.get()),
    ]:
        response = admin_client.get(f"/en/admin/exchange_central/{model}/{entry.pk}/change/")
        assert response.status_code == 200, model
    assert (
        admin_client.get("/en/admin/exchange_central/configurationversion/add/").status_code == 403
    )


def test_anonymous_and_citizens_do_not_reach_it(registry, client):
    small_registry(registry)
    response = client.get("/en/admin/exchange_central/member/")
    assert response.status_code == 302
    client.force_login(UserFactory())
    assert client.get("/en/admin/exchange_central/member/").status_code == 302


def test_admin_changes_bump_the_serial(registry, admin_client):
    small = small_registry(registry)
    serial = configuration_serial()
    response = admin_client.post(
        "/en/admin/exchange_central/member/add/",
        {
            "member_class": "GOV",
            "member_code": "MNS",
            "name": "Ministry of Taxes",
            "connection_type": "HTTPS",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert configuration_serial() == serial + 1
    added = Member.objects.get(member_code="MNS")

    response = admin_client.post(
        f"/en/admin/exchange_central/service/{small.person.pk}/change/",
        {
            "subsystem": small.population.pk,
            "service_code": "person",
            "title": "Person (edited)",
            "personal_data": "on",
            "endpoints": json.dumps([{"method": "GET", "path": "/*"}]),
            "openapi": OPENAPI,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Service.objects.get(pk=small.person.pk).title == "Person (edited)"
    assert configuration_serial() == serial + 2

    response = admin_client.post(
        f"/en/admin/exchange_central/member/{added.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Member.objects.filter(pk=added.pk).exists()
    assert configuration_serial() == serial + 3

    response = admin_client.post(
        "/en/admin/exchange_central/accessright/",
        {"action": "delete_selected", "_selected_action": [small.right.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert AccessRight.objects.count() == 0
    assert configuration_serial() == serial + 4


def test_admin_shows_validation_errors_and_saves_nothing(registry, admin_client):
    small = small_registry(registry)
    serial = configuration_serial()
    before = list(Gateway.objects.values()), list(Subsystem.objects.values())
    response = admin_client.post(
        "/en/admin/exchange_central/gateway/add/",
        {
            "code": "GW B",
            "owner": small.nces.pk,
            "address": "http://example.org",
            "tls_certificate": "garbage",
            "signing_certificate": small.signing.certificate_path.read_text(),
            "enabled": "on",
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert sorted(errors) == ["address", "code", "tls_certificate"]
    response = admin_client.post(
        "/en/admin/exchange_central/service/add/",
        {
            "subsystem": small.population.pk,
            "service_code": "family",
            "title": "Family",
            "endpoints": "[]",
            "openapi": "info: {}\n",
        },
    )
    assert response.status_code == 200
    assert sorted(response.context["adminform"].form.errors) == ["openapi"]
    assert (list(Gateway.objects.values()), list(Subsystem.objects.values())) == before
    assert Service.objects.count() == 1
    assert configuration_serial() == serial
