"""Connection types, client certificates, member clients, endpoint rights and purposes."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from egov.exchange.central.models import (
    AccessRight,
    AccessRightPurpose,
    ClientCertificate,
    ConnectionType,
    Member,
    Service,
    Subsystem,
)
from egov.exchange.central.selectors import configuration_serial
from egov.exchange.central.services import (
    RegistryEntryInvalid,
    access_right_grant,
    access_right_revoke,
    access_right_save,
    client_certificate_add,
    client_certificates_set,
    member_save,
    service_save,
    subsystem_save,
)
from egov.trust.pki import Profile, certificate_issue, load_certificate, profile_register
from tests.exchange.central.factories import CHECK, TRAINING, small_registry

LICENCES = """openapi: 3.1.0
info: {title: Hunting licence, version: '1'}
paths:
  /licences/{number}:
    get: {responses: {'200': {description: A licence}}}
  /licences:
    post: {responses: {'201': {description: Issued}}}
"""


def _state() -> dict:
    return {
        "serial": configuration_serial(),
        "rights": list(AccessRight.objects.order_by("pk").values()),
        "purposes": list(AccessRightPurpose.objects.order_by("pk").values()),
        "certificates": list(ClientCertificate.objects.order_by("pk").values()),
        "services": list(Service.objects.order_by("pk").values()),
    }


def _information_system(registry, name: str):  # type: ignore[no-untyped-def]
    issued = certificate_issue(
        directory=registry, profile="information-system", common_name=name, name=name
    )
    return issued, issued.certificate_path.read_text()


def test_clients_connect_over_https_with_a_certificate_unless_told(registry):
    small = small_registry(registry)
    assert (small.portal.connection_type, small.mvd.connection_type) == ("HTTPS", "HTTPS")
    assert Member.objects.get(pk=small.mvd.pk).connection_type == ConnectionType.HTTPS
    small.portal.connection_type = "HTTP"
    subsystem_save(subsystem=small.portal)
    assert Subsystem.objects.get(pk=small.portal.pk).connection_type == "HTTP"
    before = _state()
    small.portal.connection_type = "FTP"
    with pytest.raises(RegistryEntryInvalid) as raised:
        subsystem_save(subsystem=small.portal)
    assert list(raised.value.errors) == ["connection_type"]
    assert _state() == before


def test_a_registered_certificate_carries_its_sha256_fingerprint(registry):
    small = small_registry(registry)
    issued, pem = _information_system(registry, "portal-client")
    serial = configuration_serial()
    entry = client_certificate_add(client=small.portal, certificate=pem)
    der = load_certificate(pem).public_bytes(serialization.Encoding.DER)
    assert entry.fingerprint == hashlib.sha256(der).hexdigest()
    assert entry.fingerprint == issued.fingerprint
    assert entry.subject == "CN=portal-client"
    assert configuration_serial() == serial + 1
    assert client_certificate_add(client=small.portal, certificate=pem).pk == entry.pk
    assert configuration_serial() == serial + 1
    assert list(small.portal.client_certificates.values_list("fingerprint", flat=True)) == [
        issued.fingerprint
    ]


def test_a_member_without_a_subsystem_is_a_client_with_a_gateway(registry):
    small = small_registry(registry)
    _issued, pem = _information_system(registry, "mvd-client")
    small.mvd.gateway = small.gateway
    member_save(member=small.mvd)
    entry = client_certificate_add(client=small.mvd, certificate=pem)
    assert (entry.member_id, entry.subsystem_id) == (small.mvd.pk, None)
    right = access_right_grant(client=small.mvd, service=small.person, purposes=[CHECK])
    assert (right.client_id, right.client_member_id) == (None, small.mvd.pk)
    assert right.client_identifier == "BY/GOV/MVD"
    assert str(right) == "BY/GOV/MVD → BY/GOV/MVD/population/person"
    serial = configuration_serial()
    access_right_revoke(client=small.mvd, service=small.person)
    assert not AccessRight.objects.filter(client_member=small.mvd).exists()
    assert configuration_serial() == serial + 1


def test_certificates_that_cannot_authenticate_a_client_are_refused(registry):
    small = small_registry(registry)
    profile_register(
        Profile(
            name="test-server-only",
            key_usages=frozenset({"digital_signature"}),
            extended_key_usages=(ExtendedKeyUsageOID.SERVER_AUTH,),
        )
    )
    server_only = certificate_issue(
        directory=registry, profile="test-server-only", common_name="web", name="web"
    )
    before = _state()
    for pem in (
        (registry / "issuing.cert.pem").read_text(),
        server_only.certificate_path.read_text(),
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    ):
        with pytest.raises(RegistryEntryInvalid) as raised:
            client_certificate_add(client=small.portal, certificate=pem)
        assert list(raised.value.errors) == ["certificate"]
    assert _state() == before


def test_setting_certificates_replaces_them_and_refuses_twins(registry):
    small = small_registry(registry)
    first, first_pem = _information_system(registry, "one")
    second, second_pem = _information_system(registry, "two")
    client_certificates_set(client=small.portal, certificates=[first_pem, second_pem])
    serial = configuration_serial()
    client_certificates_set(client=small.portal, certificates=[first_pem, second_pem])
    assert configuration_serial() == serial
    client_certificates_set(client=small.portal, certificates=[second_pem])
    assert configuration_serial() == serial + 1
    assert list(small.portal.client_certificates.values_list("fingerprint", flat=True)) == [
        second.fingerprint
    ]
    before = _state()
    with pytest.raises(RegistryEntryInvalid) as raised:
        client_certificates_set(client=small.portal, certificates=[first_pem, first_pem])
    assert list(raised.value.errors) == ["certificate"]
    assert _state() == before
    assert first.fingerprint not in [row["fingerprint"] for row in before["certificates"]]


def test_a_right_to_personal_data_without_a_purpose_is_refused(registry):
    small = small_registry(registry)
    before = _state()
    with pytest.raises(RegistryEntryInvalid) as raised:
        access_right_grant(client=small.population, service=small.person)
    assert raised.value.errors == {
        "purposes": [
            "BY/GOV/MVD/population/person holds personal data: give the right at least one "
            "purpose (a code, its text and its legal basis in Belarusian, Russian and English)."
        ]
    }
    with pytest.raises(RegistryEntryInvalid):
        access_right_save(access_right=small.right, purposes=[])
    assert _state() == before


def test_purposes_are_stored_in_order_and_replaced_by_a_new_grant(registry):
    small = small_registry(registry)
    right = access_right_grant(
        client=small.population, service=small.person, purposes=[TRAINING, CHECK]
    )
    assert [purpose.as_published() for purpose in right.purposes.all()] == [TRAINING, CHECK]
    serial = configuration_serial()
    access_right_grant(client=small.population, service=small.person, purposes=[TRAINING, CHECK])
    access_right_grant(client=small.population, service=small.person)
    assert configuration_serial() == serial
    access_right_grant(client=small.population, service=small.person, purposes=[CHECK])
    assert configuration_serial() == serial + 1
    assert list(right.purposes.values_list("code", flat=True)) == ["check"]


@pytest.mark.parametrize(
    "purposes",
    [
        [{**CHECK, "text": {"be": "Праверка", "en": "Checking"}}],
        [{**CHECK, "legal_basis": {}}],
        [{**CHECK, "code": "check now"}],
        [CHECK, CHECK],
    ],
    ids=["no-russian-text", "no-legal-basis", "bad-code", "twice"],
)
def test_incomplete_or_repeated_purposes_are_refused(registry, purposes):
    small = small_registry(registry)
    before = _state()
    with pytest.raises(RegistryEntryInvalid) as raised:
        access_right_grant(client=small.population, service=small.person, purposes=purposes)
    assert list(raised.value.errors) == ["purposes"]
    assert _state() == before


def test_a_service_becomes_personal_data_only_when_its_rights_have_purposes(registry):
    small = small_registry(registry)
    address = service_save(
        service=Service(
            subsystem=small.population, service_code="address", title="Address", openapi=LICENCES
        )
    )
    access_right_grant(client=small.portal, service=address)
    before = _state()
    address.personal_data = True
    with pytest.raises(RegistryEntryInvalid) as raised:
        service_save(service=address)
    assert raised.value.errors == {
        "personal_data": [
            "Give the rights of BY/GOV/NCES/portal a purpose first: a right to a "
            "personal-data service needs at least one."
        ]
    }
    assert _state() == before
    access_right_grant(client=small.portal, service=address, purposes=[CHECK])
    service_save(service=address)
    assert Service.objects.get(pk=address.pk).personal_data is True


def _licences(small) -> Service:  # type: ignore[no-untyped-def]
    return service_save(
        service=Service(
            subsystem=small.population, service_code="licence", title="Licence", openapi=LICENCES
        )
    )


def test_endpoints_of_a_right_must_be_described_by_the_service(registry):
    small = small_registry(registry)
    licence = _licences(small)
    right = access_right_grant(
        client=small.portal,
        service=licence,
        endpoints=[{"method": "GET", "path": "/licences/*"}, {"method": "*", "path": "/**"}],
    )
    assert right.endpoints == [
        {"method": "GET", "path": "/licences/*"},
        {"method": "*", "path": "/**"},
    ]
    before = _state()
    with pytest.raises(RegistryEntryInvalid) as raised:
        access_right_grant(
            client=small.portal,
            service=licence,
            endpoints=[
                {"method": "DELETE", "path": "/licences/*"},
                {"method": "GET", "path": "/x"},
            ],
        )
    assert raised.value.errors == {
        "endpoints": [
            "DELETE /licences/*, GET /x: the service has no such endpoint. It describes: "
            "GET /licences/*, POST /licences."
        ]
    }
    assert _state() == before


def test_without_openapi_paths_the_service_endpoints_decide(registry):
    small = small_registry(registry)
    access_right_grant(
        client=small.population,
        service=small.person,
        endpoints=[{"method": "GET", "path": "/3010180A001PB8"}],
        purposes=[CHECK],
    )
    before = _state()
    with pytest.raises(RegistryEntryInvalid) as raised:
        access_right_grant(
            client=small.population,
            service=small.person,
            endpoints=[{"method": "GET", "path": "/a/b"}],
        )
    assert list(raised.value.errors) == ["endpoints"]
    assert _state() == before


@pytest.mark.parametrize(
    "endpoints",
    [
        [{"method": "FETCH", "path": "/*"}],
        [{"method": "GET", "path": "licences"}],
        [{"method": "GET", "path": "/a**"}],
        [{"method": "GET", "path": "/../x"}],
        [{"method": "GET"}],
        {"method": "GET", "path": "/"},
    ],
    ids=["method", "relative", "partial-double-star", "dot-dot", "no-path", "not-a-list"],
)
def test_malformed_endpoints_are_refused(registry, endpoints):
    small = small_registry(registry)
    licence = _licences(small)
    before = _state()
    with pytest.raises(RegistryEntryInvalid) as raised:
        access_right_grant(client=small.portal, service=licence, endpoints=endpoints)
    assert list(raised.value.errors) == ["endpoints"]
    assert _state() == before


def test_a_right_has_exactly_one_client(registry):
    small = small_registry(registry)
    before = _state()
    for right in (
        AccessRight(service=small.person),
        AccessRight(service=small.person, client=small.population, client_member=small.mvd),
    ):
        with pytest.raises(RegistryEntryInvalid) as raised:
            access_right_save(access_right=right, purposes=[CHECK])
        assert list(raised.value.errors) == ["client"]
    assert _state() == before
