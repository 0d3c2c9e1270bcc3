"""Signed applications: what is signed, and the CMS checks that do not need the platform's
PKI (the certificate's trust is checked in tests/portal/test_signed_*.py)."""

from __future__ import annotations

import base64
import copy
import datetime
import hashlib
import json

import pytest
from asn1crypto import cms as asn1_cms

from egov.cases.signatures import (
    SignatureMissing,
    SignatureRefused,
    certificate_person_name,
    certificate_personal_number,
    cms_verify,
    signature_required,
    signature_submission_parse,
    signer_may_sign,
    submission_content,
)
from egov.catalog.definitions import DefinitionInvalid, definition_validate
from egov.identity.models import Representation
from tests.cases.eid import Authority, EId
from tests.factories import UserFactory, published

DIRECTOR = "3010180A001PB8"


@pytest.fixture(scope="module")
def eid() -> EId:
    return Authority.create().issue(DIRECTOR, surname="Шымановіч", given_name="Андрэй")


def _content() -> tuple[bytes, bytes]:
    signed = submission_content(
        service_code="MGI-COMPANY-REG",
        version_number=3,
        answers={"company_name": "Лясны двор", "charter_capital": 100},
        attachments=[("duty", "плацёж.pdf", "b" * 64), ("articles", "статут.pdf", "a" * 64)],
    )
    return signed.content, signed.digest


def test_signed_content_is_canonical_json_of_service_version_answers_and_files():
    content, digest = _content()
    assert content == (
        '{"answers":{"charter_capital":100,"company_name":"Лясны двор"},'
        '"attachments":[{"code":"articles","name":"статут.pdf","sha256":"' + "a" * 64 + '"},'
        '{"code":"duty","name":"плацёж.pdf","sha256":"' + "b" * 64 + '"}],'
        '"service":"MGI-COMPANY-REG","version":3}'
    ).encode("utf-8")
    assert digest == hashlib.sha256(content).digest()
    assert json.loads(content)["answers"]["company_name"] == "Лясны двор"


def test_any_change_changes_the_digest():
    _content_bytes, digest = _content()
    other = submission_content(
        service_code="MGI-COMPANY-REG",
        version_number=3,
        answers={"company_name": "Лясны двор", "charter_capital": 101},
        attachments=[("duty", "плацёж.pdf", "b" * 64), ("articles", "статут.pdf", "a" * 64)],
    )
    assert other.digest != digest


def test_a_detached_cms_over_the_digest_verifies_and_names_the_signer(eid):
    _content_bytes, digest = _content()
    signer = cms_verify(eid.sign(digest), digest=digest)
    assert signer.certificate == eid.certificate
    assert signer.chain == eid.chain
    assert signer.signed_at is not None
    assert certificate_personal_number(signer.certificate) == DIRECTOR
    assert certificate_person_name(signer.certificate) == "Шымановіч Андрэй"


def test_a_cms_over_another_digest_is_refused(eid):
    _content_bytes, digest = _content()
    other = hashlib.sha256(b"something else").digest()
    with pytest.raises(SignatureRefused, match="not of this application"):
        cms_verify(eid.sign(other), digest=digest)


def test_a_cms_with_a_broken_signature_is_refused(eid):
    _content_bytes, digest = _content()
    content_info = asn1_cms.ContentInfo.load(eid.sign(digest))
    signer_info = content_info["content"]["signer_infos"][0]
    signature = bytearray(signer_info["signature"].native)
    signature[-1] ^= 0x01
    signer_info["signature"] = bytes(signature)
    with pytest.raises(SignatureRefused):
        cms_verify(content_info.dump(force=True), digest=digest)


def test_a_cms_signed_by_another_key_than_its_certificate_is_refused(eid):
    _content_bytes, digest = _content()
    impostor = Authority.create().issue(DIRECTOR, surname="Шымановіч", given_name="Андрэй")
    forged = EId(certificate=eid.certificate, key=impostor.key, chain=eid.chain)
    with pytest.raises(SignatureRefused, match="not valid"):
        cms_verify(forged.sign(digest), digest=digest)


def test_a_cms_carrying_the_content_is_refused(eid):
    _content_bytes, digest = _content()
    content_info = asn1_cms.ContentInfo.load(eid.sign(digest))
    content_info["content"]["encap_content_info"] = asn1_cms.ContentInfo(
        {"content_type": "data", "content": b"the content"}
    )
    with pytest.raises(SignatureRefused, match="detached"):
        cms_verify(content_info.dump(force=True), digest=digest)


def test_a_cms_without_the_signer_certificate_needs_it_posted(eid):
    _content_bytes, digest = _content()
    content_info = asn1_cms.ContentInfo.load(eid.sign(digest))
    content_info["content"]["certificates"] = []
    der = content_info.dump(force=True)
    with pytest.raises(SignatureRefused, match="certificate"):
        cms_verify(der, digest=digest)
    assert cms_verify(der, digest=digest, certificates=[eid.certificate]).certificate == (
        eid.certificate
    )


@pytest.mark.parametrize(
    "posted", ["", "not base64!", base64.b64encode(b"garbage").decode(), "QUJD" * 30000]
)
def test_whatever_is_posted_as_a_signature_gets_a_refusal_never_a_crash(posted):
    _content_bytes, digest = _content()
    with pytest.raises(SignatureRefused) as refused:
        submission = signature_submission_parse(cms_base64=posted)
        cms_verify(submission.cms, digest=digest)
    assert refused.value.message
    if not posted:
        assert isinstance(refused.value, SignatureMissing)


def test_a_certificate_that_is_not_pem_is_refused():
    with pytest.raises(SignatureRefused, match="certificate could not be read"):
        signature_submission_parse(
            cms_base64="QUJD", certificate_pem="-----BEGIN CERTIFICATE-----\nxx\n"
        )


@pytest.mark.django_db
def test_the_applicant_or_a_director_of_the_organisation_may_sign():
    applicant = UserFactory(kind="business")
    other_director = UserFactory(kind="business")
    Representation.objects.create(
        user=other_director, unp="192541238", organisation_name="ТАА", basis="director"
    )
    stranger = UserFactory()
    number = applicant.personal_number
    assert signer_may_sign(personal_number=number, applicant=applicant)
    assert signer_may_sign(
        personal_number=other_director.personal_number,
        applicant=applicant,
        on_behalf_unp="192541238",
    )
    # Not for another organisation, not for a stranger, not for a mandate holder.
    assert not signer_may_sign(
        personal_number=other_director.personal_number,
        applicant=applicant,
        on_behalf_unp="MA1953684",
    )
    assert not signer_may_sign(
        personal_number=stranger.personal_number, applicant=applicant, on_behalf_unp="192541238"
    )
    Representation.objects.filter(user=other_director).update(basis="mandate")
    assert not signer_may_sign(
        personal_number=other_director.personal_number,
        applicant=applicant,
        on_behalf_unp="192541238",
    )
    assert not signer_may_sign(personal_number="", applicant=applicant)


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["MGI-COMPANY-REG", "MNS-VAT-REG", "MNS-TAX-COMPLAINT"])
def test_the_business_services_require_a_signature_and_the_high_level(code):
    version = published(code)
    assert signature_required(version.definition)
    assert version.service.required_assurance == "high"
    assert version.service.audience == "businesses"
    assert version.service.can_apply_online


@pytest.mark.django_db
def test_the_signature_key_takes_only_required():
    definition = copy.deepcopy(published("MGI-COMPANY-REG").definition)
    definition_validate(definition)
    definition["signature"] = "optional"
    with pytest.raises(DefinitionInvalid) as invalid:
        definition_validate(definition)
    assert invalid.value.path == "signature"
    del definition["signature"]
    definition_validate(definition)
    assert not signature_required(definition)


def test_signing_time_of_the_cms_is_the_one_the_signer_gave(eid):
    _content_bytes, digest = _content()
    at = datetime.datetime(2026, 3, 1, 10, 0, tzinfo=datetime.UTC)
    assert cms_verify(eid.sign(digest, at=at), digest=digest).signed_at == at
