from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest

from egov.exchange.central.models import Subsystem
from egov.exchange.central.publication import (
    GlobalconfNotConfigured,
    globalconf_build,
    globalconf_signed,
)
from egov.exchange.central.services import (
    access_right_grant,
    client_certificate_add,
    gateway_save,
    member_save,
    service_save,
    subsystem_save,
)
from egov.exchange.globalconf import (
    GlobalconfInvalid,
    globalconf_content_bytes,
    globalconf_expired,
    globalconf_sign,
    globalconf_verify,
    parse_timestamp,
)
from egov.trust.pki import (
    certificate_issue,
    certificate_revoke,
    load_certificate,
    load_private_key,
)
from tests.exchange.central.factories import CHECK, OPENAPI, TRAINING, small_registry

NOW = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


def _now():  # type: ignore[no-untyped-def]
    return mock.patch("egov.exchange.central.publication.timezone.now", return_value=NOW)


def test_content_describes_the_registry_exactly(registry):
    small = small_registry(registry)
    with _now():
        content = globalconf_build()
    assert content == {
        "format": 2,
        "instance": "BY",
        "serial": 7,
        "generated_at": "2026-03-01T09:30:15Z",
        "expires_at": "2026-03-01T09:40:15Z",
        "ca_certificates": [
            (registry / "root.cert.pem").read_text(),
            (registry / "issuing.cert.pem").read_text(),
        ],
        "revoked_serials": [],
        "members": [
            {
                "id": "BY/GOV/MVD",
                "member_class": "GOV",
                "member_code": "MVD",
                "name": "Ministry of Internal Affairs",
                "gateway": None,
                "connection_type": "HTTPS",
                "client_certificates": [],
            },
            {
                "id": "BY/GOV/NCES",
                "member_class": "GOV",
                "member_code": "NCES",
                "name": "National Centre",
                "gateway": None,
                "connection_type": "HTTPS",
                "client_certificates": [],
            },
        ],
        "subsystems": [
            {
                "id": "BY/GOV/MVD/population",
                "member": "BY/GOV/MVD",
                "subsystem_code": "population",
                "gateway": "GW-A",
                "connection_type": "HTTPS",
                "client_certificates": [],
            },
            {
                "id": "BY/GOV/NCES/portal",
                "member": "BY/GOV/NCES",
                "subsystem_code": "portal",
                "gateway": "GW-A",
                "connection_type": "HTTPS",
                "client_certificates": [],
            },
        ],
        "gateways": [
            {
                "code": "GW-A",
                "owner": "BY/GOV/NCES",
                "address": "https://127.0.0.1:8444",
                "tls_certificate": small.tls.certificate_path.read_text(),
                "signing_certificate": small.signing.certificate_path.read_text(),
            }
        ],
        "services": [
            {
                "id": "BY/GOV/MVD/population/person",
                "subsystem": "BY/GOV/MVD/population",
                "service_code": "person",
                "title": "Person",
                "personal_data": True,
                "endpoints": [{"method": "GET", "path": "/*"}],
                "openapi": OPENAPI,
            }
        ],
        "access_rights": [
            {
                "client": "BY/GOV/NCES/portal",
                "service": "BY/GOV/MVD/population/person",
                "endpoints": [],
                "purposes": [CHECK],
            }
        ],
    }


def test_clients_certificates_endpoints_and_purposes_are_published(registry):
    small = small_registry(registry)
    portal_one = certificate_issue(
        directory=registry, profile="information-system", common_name="portal", name="p1"
    )
    portal_two = certificate_issue(
        directory=registry, profile="information-system", common_name="portal", name="p2"
    )
    member = certificate_issue(
        directory=registry, profile="information-system", common_name="mvd", name="m1"
    )
    for issued in (portal_one, portal_two):
        client_certificate_add(client=small.portal, certificate=issued.certificate_path.read_text())
    client_certificate_add(client=small.mvd, certificate=member.certificate_path.read_text())
    small.mvd.gateway = small.gateway
    small.mvd.connection_type = "HTTPS_NO_AUTH"
    member_save(member=small.mvd)
    training = subsystem_save(
        subsystem=Subsystem(member=small.nces, code="training", gateway=small.gateway)
    )
    training.connection_type = "HTTP"
    subsystem_save(subsystem=training)
    access_right_grant(
        client=training,
        service=small.person,
        endpoints=[{"method": "GET", "path": "/*"}],
        purposes=[TRAINING, CHECK],
    )
    access_right_grant(client=small.mvd, service=small.person, purposes=[CHECK])

    content = globalconf_build()

    assert {member["id"]: member for member in content["members"]}["BY/GOV/MVD"] == {
        "id": "BY/GOV/MVD",
        "member_class": "GOV",
        "member_code": "MVD",
        "name": "Ministry of Internal Affairs",
        "gateway": "GW-A",
        "connection_type": "HTTPS_NO_AUTH",
        "client_certificates": [member.fingerprint],
    }
    subsystems = {subsystem["id"]: subsystem for subsystem in content["subsystems"]}
    assert subsystems["BY/GOV/NCES/portal"]["client_certificates"] == sorted(
        [portal_one.fingerprint, portal_two.fingerprint]
    )
    assert subsystems["BY/GOV/NCES/training"] == {
        "id": "BY/GOV/NCES/training",
        "member": "BY/GOV/NCES",
        "subsystem_code": "training",
        "gateway": "GW-A",
        "connection_type": "HTTP",
        "client_certificates": [],
    }
    assert all(
        len(value) == 64 for value in subsystems["BY/GOV/NCES/portal"]["client_certificates"]
    )
    assert content["access_rights"] == [
        {
            "client": "BY/GOV/MVD",
            "service": "BY/GOV/MVD/population/person",
            "endpoints": [],
            "purposes": [CHECK],
        },
        {
            "client": "BY/GOV/NCES/portal",
            "service": "BY/GOV/MVD/population/person",
            "endpoints": [],
            "purposes": [CHECK],
        },
        {
            "client": "BY/GOV/NCES/training",
            "service": "BY/GOV/MVD/population/person",
            "endpoints": [{"method": "GET", "path": "/*"}],
            "purposes": [TRAINING, CHECK],
        },
    ]
    serial = content["serial"]
    small.gateway.enabled = False
    gateway_save(gateway=small.gateway)
    content = globalconf_build()
    assert content["serial"] == serial + 1
    assert [member["gateway"] for member in content["members"]] == [None, None]


def test_local_fields_of_a_gateway_and_a_service_are_not_published(registry):
    small = small_registry(registry)
    small.gateway.client_listen = "127.0.0.1:18080"
    small.gateway.client_tls_listen = "127.0.0.1:18090"
    small.gateway.server_listen = "10.0.0.8:18443"
    gateway_save(gateway=small.gateway)
    small.person.backend_url = "http://10.0.0.7:8001/registries/population/v1/persons"
    service_save(service=small.person)
    published = json.dumps(globalconf_build())
    for value in ("18080", "18090", "10.0.0.8", "10.0.0.7"):
        assert value not in published


def test_expiry_follows_the_setting(registry, settings):
    small_registry(registry)
    settings.GLOBALCONF_VALIDITY_SECONDS = 45
    with _now():
        content = globalconf_build()
    assert parse_timestamp(content["expires_at"]) - parse_timestamp(
        content["generated_at"]
    ) == timedelta(seconds=45)
    assert globalconf_expired(content, now=NOW + timedelta(seconds=44)) is False
    assert globalconf_expired(content, now=NOW + timedelta(seconds=45)) is True
    assert globalconf_expired({}, now=NOW) is True


def test_a_disabled_gateway_is_left_out(registry):
    small = small_registry(registry)
    small.gateway.enabled = False
    gateway_save(gateway=small.gateway)
    content = globalconf_build()
    assert content["gateways"] == []
    assert [subsystem["gateway"] for subsystem in content["subsystems"]] == [None, None]
    assert content["serial"] == 8


def test_revoked_serials_appear_after_revocation(registry):
    small = small_registry(registry)
    before = globalconf_signed()
    certificate_revoke(directory=registry, serial=small.tls.serial, reason="key_compromise")
    assert globalconf_build()["revoked_serials"] == [small.tls.serial]
    after = globalconf_signed()
    anchor = small.central.certificate_path.read_bytes()
    assert globalconf_verify(before, anchor)["revoked_serials"] == []
    assert globalconf_verify(after, anchor)["revoked_serials"] == [small.tls.serial]


def test_envelope_verifies_with_the_anchor(registry):
    small = small_registry(registry)
    envelope = globalconf_signed()
    assert set(envelope) == {"content", "signature", "signer_certificate"}
    assert envelope["signer_certificate"] == small.central.certificate_path.read_text()
    content = globalconf_verify(envelope, small.central.certificate_path.read_bytes())
    assert json.loads(base64.b64decode(envelope["content"])) == content
    assert content["serial"] == 7
    assert [service["id"] for service in content["services"]] == ["BY/GOV/MVD/population/person"]


def test_envelope_is_cached_per_serial(registry):
    small = small_registry(registry)
    first = globalconf_signed()
    assert globalconf_signed() == first
    small.mvd.name = "Renamed"
    member_save(member=small.mvd)
    changed = globalconf_signed()
    content = globalconf_verify(changed, small.central.certificate_path.read_bytes())
    assert content["serial"] == 8
    assert content["members"][0]["name"] == "Renamed"


def _tampered(envelope: dict, **changes: object) -> dict:
    return {**envelope, **changes}


def test_tampered_content_or_another_signer_is_refused(registry):
    small = small_registry(registry)
    envelope = globalconf_signed()
    anchor = small.central.certificate_path.read_bytes()
    content = globalconf_verify(envelope, anchor)
    forged = globalconf_content_bytes({**content, "access_rights": []})
    cases = {
        "bad_signature": _tampered(envelope, content=base64.b64encode(forged).decode()),
        "malformed": _tampered(envelope, signature="***"),
    }
    for code, tampered in cases.items():
        with pytest.raises(GlobalconfInvalid) as raised:
            globalconf_verify(tampered, anchor)
        assert raised.value.code == code

    # signed by another certificate of the same PKI: not the anchor
    other = certificate_issue(
        directory=registry, profile="central-signing", common_name="rogue", name="rogue"
    )
    rogue = globalconf_sign(
        content=content,
        private_key=load_private_key(other.key_path),
        certificate=load_certificate(other.certificate_path),
    )
    with pytest.raises(GlobalconfInvalid) as raised:
        globalconf_verify(rogue, anchor)
    assert raised.value.code == "untrusted_signer"
    # the anchor's certificate presented with the other key's signature
    with pytest.raises(GlobalconfInvalid) as raised:
        globalconf_verify(
            _tampered(rogue, signer_certificate=envelope["signer_certificate"]), anchor
        )
    assert raised.value.code == "bad_signature"
    # the genuine envelope checked against another anchor
    with pytest.raises(GlobalconfInvalid) as raised:
        globalconf_verify(envelope, other.certificate_path.read_bytes())
    assert raised.value.code == "untrusted_signer"
    for broken in ({}, [], {"content": 1, "signature": "", "signer_certificate": ""}):
        with pytest.raises(GlobalconfInvalid) as raised:
            globalconf_verify(broken, anchor)  # type: ignore[arg-type]
        assert raised.value.code == "malformed"


def test_signed_content_that_is_not_a_format_2_document_is_refused(registry):
    small = small_registry(registry)
    key = load_private_key(small.central.key_path)
    certificate = load_certificate(small.central.certificate_path)
    anchor = small.central.certificate_path.read_bytes()
    with _now():
        format_1 = {**globalconf_build(), "format": 1}
    for content in (format_1, {"serial": 1}, {"format": "2"}):
        envelope = globalconf_sign(content=content, private_key=key, certificate=certificate)
        with pytest.raises(GlobalconfInvalid) as raised:
            globalconf_verify(envelope, anchor)
        assert raised.value.code == "bad_content"
    envelope = globalconf_sign(content={"format": 2}, private_key=key, certificate=certificate)
    assert globalconf_verify(envelope, anchor) == {"format": 2}


def test_without_pki_or_central_key_it_is_not_configured(registry):
    with pytest.raises(GlobalconfNotConfigured):
        globalconf_build()
    small = small_registry(registry)
    small.central.key_path.unlink()
    with pytest.raises(GlobalconfNotConfigured) as raised:
        globalconf_signed()
    assert raised.value.code == "not_configured"


def test_view_serves_the_envelope_without_caching(registry, client):
    small = small_registry(registry)
    response = client.get("/exchange/globalconf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    content = globalconf_verify(response.json(), small.central.certificate_path.read_bytes())
    assert content["serial"] == 7
    assert client.post("/exchange/globalconf").status_code == 405


def test_view_answers_503_when_not_configured(registry, client):
    response = client.get("/exchange/globalconf")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert (body["status"], body["code"]) == (503, "not_configured")
    assert body["type"].endswith("/not_configured")
    assert "egov exchange setup" in body["detail"]


def test_the_shared_module_and_the_pki_load_without_django():
    import subprocess
    import sys

    code = (
        "import sys, egov.exchange.globalconf, egov.trust.pki; "
        "print(sorted({m.split('.')[0] for m in sys.modules if m.startswith('django')}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
