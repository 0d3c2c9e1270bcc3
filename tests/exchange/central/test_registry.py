from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from egov.exchange.central.models import (
    AccessRight,
    ConfigurationVersion,
    Gateway,
    Member,
    Service,
    Subsystem,
)
from egov.exchange.central.selectors import configuration_serial
from egov.exchange.central.services import (
    RegistryEntryInvalid,
    access_right_delete,
    access_right_grant,
    access_right_revoke,
    gateway_delete,
    gateway_save,
    member_delete,
    member_save,
    registry_entries_delete,
    registry_entry_upsert,
    service_delete,
    service_save,
    subsystem_delete,
    subsystem_save,
)
from tests.exchange.central.factories import CHECK, OPENAPI, small_registry


def _counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count() for model in (Member, Gateway, Subsystem, Service, AccessRight)
    )


def test_the_registry_accepts_exactly_what_a_gateway_parses(registry):
    from egov.exchange.identifiers import client_id_parse

    small = small_registry(registry)
    small.population.code = "pop(2)=ok?"
    subsystem_save(subsystem=small.population)
    assert Subsystem.objects.get(pk=small.population.pk).code == "pop(2)=ok?"
    assert client_id_parse("BY/GOV/MVD/pop(2)=ok%3F").subsystem_code == "pop(2)=ok?"


def test_identifiers_follow_x_road(registry):
    small = small_registry(registry)
    assert small.mvd.identifier == "BY/GOV/MVD"
    assert small.population.identifier == "BY/GOV/MVD/population"
    assert small.person.identifier == "BY/GOV/MVD/population/person"
    assert str(small.right) == "BY/GOV/NCES/portal → BY/GOV/MVD/population/person"
    assert small.mvd.instance == "BY"


@pytest.mark.parametrize(
    "build",
    [
        lambda small: Member(member_code="MVD", name="Twin"),
        lambda small: Subsystem(member=small.mvd, code="population"),
        lambda small: Service(subsystem=small.population, service_code="person", openapi=OPENAPI),
        lambda small: AccessRight(client=small.portal, service=small.person),
    ],
    ids=["member", "subsystem", "service", "access_right"],
)
def test_database_refuses_duplicates(registry, build):
    small = small_registry(registry)
    before, serial = _counts(), configuration_serial()
    with pytest.raises(IntegrityError), transaction.atomic():
        build(small).save()
    assert (_counts(), configuration_serial()) == (before, serial)


def test_the_same_code_in_another_member_class_is_another_member(registry):
    member_save(member=Member(member_code="MVD", name="A"))
    member_save(member=Member(member_class="COM", member_code="MVD", name="B"))
    assert sorted(Member.objects.values_list("member_class", flat=True)) == ["COM", "GOV"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda small: setattr(small.mvd, "member_code", "M V D"), "member_code"),
        (lambda small: setattr(small.mvd, "member_code", "x" * 65), "member_code"),
        (lambda small: setattr(small.mvd, "member_class", "XYZ"), "member_class"),
        (lambda small: setattr(small.population, "code", "pop/ulation"), "code"),
        # PR-REST §4.8: no "_" (a gateway could not parse what the registry stored).
        (lambda small: setattr(small.population, "code", "pop_ulation"), "code"),
        (lambda small: setattr(small.population, "code", ".."), "code"),
        (lambda small: setattr(small.person, "service_code", "per son"), "service_code"),
        (lambda small: setattr(small.person, "openapi", "just: [text"), "openapi"),
        (lambda small: setattr(small.person, "openapi", "swagger: '2.0'\n"), "openapi"),
        (lambda small: setattr(small.person, "endpoints", [{"method": "GET"}]), "endpoints"),
        (
            lambda small: setattr(small.person, "endpoints", [{"method": "GO", "path": "/"}]),
            "endpoints",
        ),
        (
            lambda small: setattr(small.gateway, "tls_certificate", "not a certificate"),
            "tls_certificate",
        ),
        (
            lambda small: setattr(
                small.gateway,
                "signing_certificate",
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            ),
            "signing_certificate",
        ),
        (lambda small: setattr(small.gateway, "address", "http://127.0.0.1:8444"), "address"),
        (lambda small: setattr(small.gateway, "address", "https://host:1/path"), "address"),
    ],
)
def test_invalid_entries_are_refused_and_change_nothing(registry, change, field):
    small = small_registry(registry)
    before = {
        "member": Member.objects.get(pk=small.mvd.pk).member_code,
        "counts": _counts(),
        "serial": configuration_serial(),
        "service": Service.objects.values("service_code", "openapi", "endpoints").get(),
        "gateway": Gateway.objects.values("address", "tls_certificate").get(),
    }
    change(small)
    save = {
        "member_code": lambda: member_save(member=small.mvd),
        "member_class": lambda: member_save(member=small.mvd),
        "code": lambda: subsystem_save(subsystem=small.population),
    }.get(field)
    if save is None:
        save = (
            (lambda: service_save(service=small.person))
            if field in {"service_code", "openapi", "endpoints"}
            else (lambda: gateway_save(gateway=small.gateway))
        )
    with pytest.raises(RegistryEntryInvalid) as raised:
        save()
    assert field in raised.value.errors
    assert raised.value.code == "invalid"
    after = {
        "member": Member.objects.get(pk=small.mvd.pk).member_code,
        "counts": _counts(),
        "serial": configuration_serial(),
        "service": Service.objects.values("service_code", "openapi", "endpoints").get(),
        "gateway": Gateway.objects.values("address", "tls_certificate").get(),
    }
    assert after == before


def test_every_change_bumps_the_serial_by_one(registry):
    assert configuration_serial() == 0
    small = small_registry(registry)
    # 2 members, a gateway, 2 subsystems, a service and an access right
    assert configuration_serial() == 7
    assert ConfigurationVersion.objects.get().serial == 7
    steps = [
        lambda: member_save(member=small.mvd),
        lambda: gateway_save(gateway=small.gateway),
        lambda: subsystem_save(subsystem=small.portal),
        lambda: service_save(service=small.person),
        lambda: access_right_revoke(client=small.portal, service=small.person),
        lambda: access_right_grant(client=small.portal, service=small.person, purposes=[CHECK]),
        lambda: access_right_delete(access_right=AccessRight.objects.get()),
        lambda: service_delete(service=small.person),
        lambda: subsystem_delete(subsystem=small.portal),
        lambda: gateway_delete(gateway=small.gateway),
        lambda: registry_entries_delete(queryset=Subsystem.objects.all()),
        lambda: member_delete(member=small.mvd),
    ]
    for number, step in enumerate(steps, start=8):
        step()
        assert configuration_serial() == number
    assert ConfigurationVersion.objects.count() == 1


def test_nothing_to_change_leaves_the_serial(registry):
    small = small_registry(registry)
    serial = configuration_serial()
    access_right_grant(client=small.portal, service=small.person)
    access_right_revoke(client=small.population, service=small.person)
    same = registry_entry_upsert(
        Member, lookup={"member_code": "MVD"}, values={"name": "Ministry of Internal Affairs"}
    )
    assert same.pk == small.mvd.pk
    assert configuration_serial() == serial
    registry_entry_upsert(Member, lookup={"member_code": "MVD"}, values={"name": "Renamed"})
    assert configuration_serial() == serial + 1
    assert Member.objects.get(pk=small.mvd.pk).name == "Renamed"


def test_a_failed_change_rolls_back_its_bump(registry):
    small = small_registry(registry)
    serial = configuration_serial()
    with pytest.raises(IntegrityError), transaction.atomic():
        member_save(member=Member(member_code="NEW", name="New"))
        Subsystem(member=small.mvd, code="population").save()
    assert configuration_serial() == serial
    assert not Member.objects.filter(member_code="NEW").exists()


def test_deleting_a_gateway_leaves_its_subsystems_unhosted(registry):
    small = small_registry(registry)
    gateway_delete(gateway=small.gateway)
    assert list(Subsystem.objects.values_list("gateway", flat=True)) == [None, None]
