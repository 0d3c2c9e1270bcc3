"""The second look at a kept signature (``signature_check`` for the case page,
``signature_blocks_decision`` before a decision) asks about the certificate as it was when
the platform received the signature, not at the signing time the signer wrote into the CMS: a
revocation after receipt leaves a good signature good, a certificate revoked or expired
before receipt (a signature kept while submission trusted the signing time) blocks."""

from __future__ import annotations

import datetime

import pytest

from egov.cases.models import Application, ApplicationSignature
from egov.cases.signatures import (
    application_signed_content,
    signature_blocks_decision,
    signature_check,
    signature_store,
    signature_submission_parse,
    signature_verify,
)
from egov.trust.pki import certificate_entry, certificate_revoke
from tests.cases.eid import DIRECTOR, TRADER, EId, platform_eid, vat_registration_signed
from tests.trust import pki_fixtures

pytestmark = pytest.mark.django_db

# The platform's PKI for the module (CAs, OCSP responder), in force for each test.
module_pki = pki_fixtures.module_pki
pki = pki_fixtures.pki

BLOCKED = (
    "The applicant's e-ID certificate was not valid when the signature was received, so the "
    "application cannot be decided: "
)


@pytest.fixture
def signed(exchange, pki, settings, tmp_path):  # type: ignore[no-untyped-def]
    """A VAT registration signed by the director, submitted; and the director's e-ID."""
    return vat_registration_signed(exchange, pki, settings, tmp_path)


def _revoke(directory, eid: EId) -> datetime.datetime:
    serial = eid.certificate.serial_number
    certificate_revoke(directory=directory, serial=serial, reason="key_compromise")
    entry = certificate_entry(directory=directory, serial=serial)
    assert entry is not None
    return datetime.datetime.fromisoformat(entry["revoked_at"])


def _received(application: Application, at: datetime.datetime) -> None:
    ApplicationSignature.objects.filter(application=application).update(created_at=at)


def test_a_certificate_revoked_after_the_signature_was_received_leaves_it_valid(signed, pki):
    application, eid = signed
    revoked_at = _revoke(pki, eid)
    check = signature_check(application)
    assert check is not None
    assert check.intact
    assert check.valid_at_signing
    assert check.status_at_signing == "The certificate is valid."
    assert check.revoked_since == revoked_at
    assert check.holds
    assert signature_blocks_decision(application) == ""


def test_a_revocation_stamped_in_the_second_the_signature_was_received_comes_after_it(signed, pki):
    # The PKI stamps a revocation in whole seconds; submission checked the exact moment of
    # receipt and found the certificate good, so the revocation came after it.
    application, eid = signed
    revoked_at = _revoke(pki, eid)
    _received(application, revoked_at + datetime.timedelta(milliseconds=900))
    check = signature_check(application)
    assert check is not None
    assert check.valid_at_signing
    assert check.revoked_since == revoked_at
    assert signature_blocks_decision(application) == ""


def test_a_certificate_revoked_before_the_signature_was_received_blocks_the_decision(signed, pki):
    # As a submission that trusted the signing time kept it: received two minutes after the
    # revocation, the signing time from before it.
    application, eid = signed
    revoked_at = _revoke(pki, eid)
    _received(application, revoked_at + datetime.timedelta(minutes=2))
    assert application.signature.signed_at < revoked_at
    check = signature_check(application)
    assert check is not None
    assert check.intact
    assert not check.valid_at_signing
    assert check.status_at_signing == "The certificate has been revoked."
    assert check.revoked_since is None
    assert not check.holds
    assert signature_blocks_decision(application) == BLOCKED + "The certificate has been revoked."


def test_a_certificate_expired_before_the_signature_was_received_blocks_the_decision(signed, pki):
    application, _eid = signed
    expired = platform_eid(
        pki,
        DIRECTOR,
        surname="Шымановіч",
        given_name="Андрэй",
        expired_ago=datetime.timedelta(minutes=1),
    )
    not_after = expired.certificate.not_valid_after_utc
    content = application_signed_content(application)
    # Checked as of a moment inside the validity (as when only the signing time counted),
    # kept now, after the certificate expired.
    verified = signature_verify(
        submission=signature_submission_parse(
            cms_base64=expired.sign_base64(
                content.digest, at=not_after - datetime.timedelta(minutes=1)
            ),
            certificate_pem=expired.certificate_pem,
        ),
        content=content,
        applicant=application.applicant,
        on_behalf_unp=TRADER,
        now=not_after - datetime.timedelta(seconds=30),
    )
    ApplicationSignature.objects.filter(application=application).delete()
    signature_store(application=application, verified=verified)
    assert ApplicationSignature.objects.get(application=application).created_at > not_after
    check = signature_check(application)
    assert check is not None
    assert check.intact
    assert not check.valid_at_signing
    assert check.status_at_signing == "The certificate has expired."
    assert signature_blocks_decision(application) == BLOCKED + "The certificate has expired."
