from __future__ import annotations

import json

import pytest

from egov.exchange.central.models import (
    AccessRight,
    AccessRightPurpose,
    ClientCertificate,
    ConfigurationVersion,
    Gateway,
    Member,
    Service,
    Subsystem,
)
from egov.exchange.central.selectors import configuration_serial
from egov.exchange.central.services import service_save
from egov.trust.pki import certificate_issue
from tests.exchange.central.factories import CHECK, OPENAPI, TRAINING, small_registry
from tests.exchange.central.test_clients_and_rights import LICENCES
from tests.factories import PASSWORD, UserFactory, current_code, totp_device

MODELS = ["member", "gateway", "subsystem", "service", "accessright", "configurationversion"]


def _inline(prefix: str, *forms: dict, initial: int = 0) -> dict:
    """The POST data of an inline formset: its management form and its forms."""
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(forms)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for number, form in enumerate(forms):
        data.update({f"{prefix}-{number}-{field}": value for field, value in form.items()})
    return data


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
            **_inline("client_certificates"),
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


PURPOSE_REQUIRED = (
    "BY/GOV/MVD/population/person holds personal data: give the right at least one "
    "purpose (a code, its text and its legal basis in Belarusian, Russian and English)."
)


def _purpose_form(purpose: dict) -> dict:
    return {
        "code": purpose["code"],
        **{f"text_{language}": text for language, text in purpose["text"].items()},
        **{f"legal_basis_{language}": text for language, text in purpose["legal_basis"].items()},
    }


def _state() -> dict:
    return {
        "serial": configuration_serial(),
        "rights": list(AccessRight.objects.order_by("pk").values()),
        "purposes": list(AccessRightPurpose.objects.order_by("pk").values()),
        "certificates": list(ClientCertificate.objects.order_by("pk").values()),
    }


def test_admin_adds_a_right_with_its_purposes_and_endpoints(registry, admin_client):
    small = small_registry(registry)
    serial = configuration_serial()
    response = admin_client.post(
        "/en/admin/exchange_central/accessright/add/",
        {
            "client": small.population.pk,
            "service": small.person.pk,
            "endpoints": json.dumps([{"method": "GET", "path": "/*"}]),
            **_inline("purposes", _purpose_form(TRAINING), _purpose_form(CHECK)),
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    right = AccessRight.objects.get(client=small.population)
    assert right.endpoints == [{"method": "GET", "path": "/*"}]
    assert [purpose.as_published() for purpose in right.purposes.all()] == [TRAINING, CHECK]
    assert configuration_serial() == serial + 1
    page = admin_client.get(f"/en/admin/exchange_central/accessright/{right.pk}/change/")
    assert "Legal basis (Belarusian)" in page.content.decode()
    listing = admin_client.get("/en/admin/exchange_central/accessright/").content.decode()
    assert "training, check" in listing


def test_admin_refuses_a_personal_data_right_without_a_purpose(registry, admin_client):
    small = small_registry(registry)
    before = _state()
    response = admin_client.post(
        "/en/admin/exchange_central/accessright/add/",
        {
            "client": small.population.pk,
            "service": small.person.pk,
            "endpoints": "[]",
            **_inline("purposes", {"code": "", "text_be": ""}),
        },
    )
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.non_form_errors() == [PURPOSE_REQUIRED]
    # removing the only purpose of an existing right is refused the same way
    purpose = small.right.purposes.get()
    response = admin_client.post(
        f"/en/admin/exchange_central/accessright/{small.right.pk}/change/",
        {
            "client": small.portal.pk,
            "service": small.person.pk,
            "endpoints": "[]",
            **_inline(
                "purposes",
                {**_purpose_form(CHECK), "id": purpose.pk, "DELETE": "on"},
                initial=1,
            ),
        },
    )
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.non_form_errors() == [PURPOSE_REQUIRED]
    assert _state() == before


def test_admin_shows_errors_of_clients_and_endpoints(registry, admin_client):
    small = small_registry(registry)
    licence = service_save(
        service=Service(
            subsystem=small.population, service_code="licence", title="Licence", openapi=LICENCES
        )
    )
    before = _state()
    response = admin_client.post(
        "/en/admin/exchange_central/accessright/add/",
        {
            "client": small.portal.pk,
            "service": licence.pk,
            "endpoints": json.dumps([{"method": "DELETE", "path": "/licences/*"}]),
            **_inline("purposes"),
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "endpoints": [
            "DELETE /licences/*: the service has no such endpoint. It describes: "
            "GET /licences/*, POST /licences."
        ]
    }
    response = admin_client.post(
        "/en/admin/exchange_central/accessright/add/",
        {
            "client": small.portal.pk,
            "client_member": small.mvd.pk,
            "service": licence.pk,
            "endpoints": "[]",
            **_inline("purposes"),
        },
    )
    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["client"]
    assert _state() == before

    response = admin_client.post(
        "/en/admin/exchange_central/accessright/add/",
        {"client_member": small.mvd.pk, "service": licence.pk, "endpoints": "[]"}
        | _inline("purposes"),
    )
    assert response.status_code == 302
    assert AccessRight.objects.get(client_member=small.mvd).service == licence


def test_admin_registers_and_removes_client_certificates(registry, admin_client):
    small = small_registry(registry)
    issued = certificate_issue(
        directory=registry, profile="information-system", common_name="portal", name="portal"
    )
    serial = configuration_serial()
    subsystem_form = {"member": small.nces.pk, "code": "portal", "gateway": small.gateway.pk}
    response = admin_client.post(
        f"/en/admin/exchange_central/subsystem/{small.portal.pk}/change/",
        {
            **subsystem_form,
            "connection_type": "HTTPS",
            **_inline("client_certificates", {"certificate": issued.certificate_path.read_text()}),
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = small.portal.client_certificates.get()
    assert (entry.fingerprint, entry.subject) == (issued.fingerprint, "CN=portal")
    assert configuration_serial() == serial + 2  # the subsystem and its certificates
    page = admin_client.get(f"/en/admin/exchange_central/subsystem/{small.portal.pk}/change/")
    assert issued.fingerprint in page.content.decode()

    before = _state()
    response = admin_client.post(
        f"/en/admin/exchange_central/subsystem/{small.portal.pk}/change/",
        {
            **subsystem_form,
            "connection_type": "HTTPS",
            **_inline(
                "client_certificates",
                {"id": entry.pk, "certificate": entry.certificate},
                {"certificate": (registry / "issuing.cert.pem").read_text()},
                initial=1,
            ),
        },
    )
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert [form.errors for form in formset.forms] == [
        {},
        {
            "certificate": [
                "This certificate cannot authenticate a TLS client: issue one with "
                "`egov pki issue --profile information-system`."
            ]
        },
    ]
    assert _state() == before

    response = admin_client.post(
        f"/en/admin/exchange_central/member/{small.mvd.pk}/change/",
        {
            "member_class": "GOV",
            "member_code": "MVD",
            "name": "Ministry of Internal Affairs",
            "gateway": small.gateway.pk,
            "connection_type": "HTTPS",
            **_inline("client_certificates", {"certificate": issued.certificate_path.read_text()}),
        },
    )
    assert response.status_code == 302
    assert small.mvd.client_certificates.get().fingerprint == issued.fingerprint
    assert Member.objects.get(pk=small.mvd.pk).gateway == small.gateway

    response = admin_client.post(
        f"/en/admin/exchange_central/subsystem/{small.portal.pk}/change/",
        {
            **subsystem_form,
            "connection_type": "HTTP",
            **_inline(
                "client_certificates",
                {"id": entry.pk, "certificate": entry.certificate, "DELETE": "on"},
                initial=1,
            ),
        },
    )
    assert response.status_code == 302
    assert not small.portal.client_certificates.exists()
    assert Subsystem.objects.get(pk=small.portal.pk).connection_type == "HTTP"
