"""A small central registry built through the services, on a fresh PKI."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from egov.exchange.central.models import AccessRight, Gateway, Member, Service, Subsystem
from egov.exchange.central.services import (
    access_right_grant,
    gateway_save,
    member_save,
    service_save,
    subsystem_save,
)
from egov.trust.pki import IssuedCertificate, certificate_issue, pki_init

OPENAPI = "openapi: 3.1.0\ninfo:\n  title: Person\n  version: '1'\npaths: {}\n"
CHECK = {
    "code": "check",
    "text": {
        "be": "Праверка звестак заявы",
        "ru": "Проверка сведений заявления",
        "en": "Checking the facts of an application",
    },
    "legal_basis": {
        "be": "Закон № 433-З, артыкул 15",
        "ru": "Закон № 433-З, статья 15",
        "en": "Law No. 433-Z, article 15",
    },
}
TRAINING = {
    "code": "training",
    "text": {"be": "Навучанне", "ru": "Обучение", "en": "Training"},
    "legal_basis": {"be": "Закон № 455-З", "ru": "Закон № 455-З", "en": "Law No. 455-Z"},
}


@dataclass
class Small:
    nces: Member
    mvd: Member
    gateway: Gateway
    portal: Subsystem
    population: Subsystem
    person: Service
    right: AccessRight
    central: IssuedCertificate
    tls: IssuedCertificate
    signing: IssuedCertificate


def small_registry(pki_dir: Path) -> Small:
    pki_init(directory=pki_dir)
    central = certificate_issue(
        directory=pki_dir, profile="central-signing", common_name="central", name="central-signing"
    )
    tls = certificate_issue(
        directory=pki_dir,
        profile="gateway-tls",
        common_name="GW-A",
        ip_addresses=["127.0.0.1"],
        name="GW-A-tls",
    )
    signing = certificate_issue(
        directory=pki_dir, profile="gateway-signing", common_name="GW-A", name="GW-A-signing"
    )
    nces = member_save(member=Member(member_code="NCES", name="National Centre"))
    mvd = member_save(member=Member(member_code="MVD", name="Ministry of Internal Affairs"))
    gateway = gateway_save(
        gateway=Gateway(
            code="GW-A",
            owner=nces,
            address="https://127.0.0.1:8444",
            tls_certificate=tls.certificate_path.read_text(),
            signing_certificate=signing.certificate_path.read_text(),
        )
    )
    portal = subsystem_save(subsystem=Subsystem(member=nces, code="portal", gateway=gateway))
    population = subsystem_save(subsystem=Subsystem(member=mvd, code="population", gateway=gateway))
    person = service_save(
        service=Service(
            subsystem=population,
            service_code="person",
            title="Person",
            personal_data=True,
            endpoints=[{"method": "GET", "path": "/*"}],
            openapi=OPENAPI,
        )
    )
    right = access_right_grant(client=portal, service=person, purposes=[CHECK])
    return Small(nces, mvd, gateway, portal, population, person, right, central, tls, signing)
