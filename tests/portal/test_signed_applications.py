"""A signed application in the portal: the check page shows what is signed, the server checks
the CMS the e-ID signer made (content, signature, the certificate at signing time through the
platform's OCSP, the signer), keeps it with the application and records it in the ledger; any
refusal is translated and keeps the draft. The API refuses such a service without a signature."""

from __future__ import annotations

import base64
import datetime
import hashlib
import html
import json
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation

from egov.audit.models import Entry
from egov.cases.models import Application, ApplicationSignature, Draft
from egov.cases.signatures import application_signed_content, submission_content
from egov.identity.models import User
from egov.trust.pki import certificate_revoke
from tests.api.conftest import bearer
from tests.cases.eid import EId, platform_eid
from tests.factories import UserFactory, login
from tests.registrydata.stub import ENTITY_SERVICE
from tests.trust import pki_fixtures

pytestmark = pytest.mark.django_db

# The platform's PKI for the module (CAs, OCSP responder), in force for each test.
module_pki = pki_fixtures.module_pki
pki = pki_fixtures.pki

VAT = "MNS-VAT-REG"
TRADER = "MA1953684"
DIRECTOR = "3010180A001PB8"


def entity(unp: str) -> dict[str, Any]:
    return {
        "unp": unp,
        "name": {"be": "Індывідуальны прадпрымальнік Шымановіч Андрэй Іванавіч", "ru": "ИП"},
        "short_name": {"be": "ІП Шымановіч А. І.", "ru": "ИП Шиманович А. И."},
        "legal_form": "sole_trader",
        "status": "active",
        "registered_on": "2009-06-15",
        "address": {
            "id": "1",
            "postal_code": "220000",
            "locality": "Мінск",
            "street": "вул. Сурганава",
            "house": "1",
            "flat": "",
            "text": {"be": "г. Мінск, вул. Сурганава, 1", "ru": "г. Минск, ул. Сурганова, 1"},
        },
        "directors": [
            {"personal_number": DIRECTOR, "full_name": "Шымановіч Андрэй Іванавіч", "since": "2009"}
        ],
    }


@pytest.fixture
def business(exchange, pki, settings, tmp_path) -> User:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"
    exchange.answer(ENTITY_SERVICE, TRADER, entity(TRADER))
    return User.objects.get(email="business@demo.egov.example")


@pytest.fixture(scope="module")
def director_eid(module_pki) -> EId:  # type: ignore[no-untyped-def]
    return platform_eid(module_pki, DIRECTOR, surname="Шымановіч", given_name="Андрэй")


def _draft(client, business: User) -> str:  # type: ignore[no-untyped-def]
    login(client, business, assurance="high")
    response = client.post(f"/en/services/{VAT}/apply/", {"on_behalf_unp": TRADER})
    assert response.status_code == 302, response.content.decode()[:500]
    draft_id = response["Location"].split("/")[4]
    response = client.post(response["Location"], {})
    assert response.status_code == 302, response.content.decode()[:3000]
    response = client.post(
        response["Location"],
        {
            "reason": "voluntary",
            "vat_from-day": "1",
            "vat_from-month": "2",
            "vat_from-year": "2027",
            "email": "business@demo.egov.example",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"] == f"/en/my-account/drafts/{draft_id}/check/"
    return draft_id


def _signing(page: str) -> tuple[str, str]:
    digest = re.search(r'data-digest="([^"]+)"', page)
    description = re.search(r'data-description="([^"]+)"', page)
    assert digest and description
    return digest.group(1), html.unescape(description.group(1))


def _post(client, draft_id: str, eid: EId | None, digest: str, **extra: Any):  # type: ignore[no-untyped-def]
    data = {}
    if eid is not None:
        data = {
            "signature_cms": eid.sign_base64(base64.b64decode(digest), **extra),
            "signature_certificate": eid.certificate_pem,
            "signature_chain": eid.chain_pem,
        }
    return client.post(f"/en/my-account/drafts/{draft_id}/check/", data)


def test_the_director_signs_and_submits_and_the_signature_is_kept(client, business, director_eid):  # type: ignore[no-untyped-def]
    draft_id = _draft(client, business)
    page = client.get(f"/en/my-account/drafts/{draft_id}/check/").content.decode()
    digest, description = _signing(page)
    assert description == "Application for “Registering for VAT” on behalf of ІП Шымановіч А. І."
    assert "Sign and submit application" in page
    fingerprint = base64.b64decode(digest).hex()
    assert fingerprint in page
    assert "egov/sign-application.js" in page

    response = _post(client, draft_id, director_eid, digest)
    application = Application.objects.get(applicant=business, service__code=VAT)
    assert response.status_code == 302
    assert response["Location"] == f"/en/my-account/applications/{application.number}/"
    assert not Draft.objects.filter(pk=draft_id).exists()
    signature = ApplicationSignature.objects.get(application=application)
    content = application_signed_content(application)
    assert bytes(signature.signed_content) == content.content
    assert signature.digest == fingerprint == content.digest_hex
    assert signature.signer_personal_number == DIRECTOR
    assert signature.signer_name == "Шымановіч Андрэй"
    assert signature.certificate_status == "good"
    assert abs(signature.signed_at - timezone.now()) < datetime.timedelta(minutes=5)
    entry = Entry.objects.filter(kind="application.signed").order_by("-pk").first()
    assert entry is not None
    assert entry.subject == TRADER
    assert entry.actor_user_id == business.pk
    assert entry.data["application"] == application.number
    assert entry.data["digest"] == fingerprint
    assert entry.data["signer"] == DIRECTOR


def _refused(client, business: User, draft_id: str, response, message: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 400
    assert message in html.unescape(response.content.decode())
    assert Draft.objects.filter(pk=draft_id).exists()  # never a lost application
    assert not Application.objects.filter(applicant=business, service__code=VAT).exists()
    assert not ApplicationSignature.objects.filter(application__applicant=business).exists()


def test_without_a_signature_the_application_is_not_sent(client, business):  # type: ignore[no-untyped-def]
    draft_id = _draft(client, business)
    response = _post(client, draft_id, None, "")
    _refused(client, business, draft_id, response, "Sign the application with your e-ID")


def test_someone_elses_e_id_is_refused(client, business, module_pki):  # type: ignore[no-untyped-def]
    stranger = UserFactory()
    eid = platform_eid(module_pki, stranger.personal_number, surname="Мароз", given_name="Ганна")
    draft_id = _draft(client, business)
    digest, _description = _signing(
        client.get(f"/en/my-account/drafts/{draft_id}/check/").content.decode()
    )
    response = _post(client, draft_id, eid, digest)
    _refused(client, business, draft_id, response, "is not yours or that of a director")


def test_a_revoked_e_id_is_refused(client, business, module_pki):  # type: ignore[no-untyped-def]
    eid = platform_eid(module_pki, DIRECTOR, surname="Шымановіч", given_name="Андрэй")
    certificate_revoke(
        directory=module_pki, serial=eid.certificate.serial_number, reason="key_compromise"
    )
    draft_id = _draft(client, business)
    digest, _description = _signing(
        client.get(f"/en/my-account/drafts/{draft_id}/check/").content.decode()
    )
    response = _post(client, draft_id, eid, digest)
    _refused(client, business, draft_id, response, "The certificate has been revoked.")


def test_an_expired_e_id_is_refused(client, business, module_pki):  # type: ignore[no-untyped-def]
    valid = platform_eid(module_pki, DIRECTOR, surname="Шымановіч", given_name="Андрэй")
    key, certificate = pki_fixtures.expired_copy(module_pki, valid.certificate)
    eid = EId(certificate=certificate, key=key, chain=valid.chain)
    draft_id = _draft(client, business)
    digest, _description = _signing(
        client.get(f"/en/my-account/drafts/{draft_id}/check/").content.decode()
    )
    response = _post(client, draft_id, eid, digest)
    _refused(client, business, draft_id, response, "The certificate has expired.")


def test_a_signing_time_backdated_to_before_a_revocation_is_refused(client, business, module_pki):
    # The signer chooses signingTime: whoever holds a key whose certificate was revoked a
    # minute ago cannot have it checked as of two minutes ago.
    eid = platform_eid(module_pki, DIRECTOR, surname="Шымановіч", given_name="Андрэй")
    certificate_revoke(
        directory=module_pki, serial=eid.certificate.serial_number, reason="key_compromise"
    )
    draft_id = _draft(client, business)
    digest, _description = _signing(
        client.get(f"/en/my-account/drafts/{draft_id}/check/").content.decode()
    )
    before = timezone.now() - datetime.timedelta(minutes=2)
    response = _post(client, draft_id, eid, digest, at=before)
    _refused(
        client,
        business,
        draft_id,
        response,
        "Your e-ID certificate cannot be used for signing: The certificate has been revoked.",
    )


def test_a_signing_time_backdated_into_an_expired_certificates_validity_is_refused(
    client, business, module_pki
):
    eid = platform_eid(
        module_pki,
        DIRECTOR,
        surname="Шымановіч",
        given_name="Андрэй",
        expired_ago=datetime.timedelta(minutes=1),
    )
    assert eid.certificate.not_valid_after_utc < timezone.now()
    draft_id = _draft(client, business)
    digest, _description = _signing(
        client.get(f"/en/my-account/drafts/{draft_id}/check/").content.decode()
    )
    within_validity = eid.certificate.not_valid_after_utc - datetime.timedelta(minutes=1)
    response = _post(client, draft_id, eid, digest, at=within_validity)
    _refused(
        client,
        business,
        draft_id,
        response,
        "Your e-ID certificate cannot be used for signing: The certificate has expired.",
    )


def test_an_e_id_from_another_authority_is_refused(client, business):  # type: ignore[no-untyped-def]
    from tests.cases.eid import Authority

    eid = Authority.create().issue(DIRECTOR, surname="Шымановіч", given_name="Андрэй")
    draft_id = _draft(client, business)
    digest, _description = _signing(
        client.get(f"/en/my-account/drafts/{draft_id}/check/").content.decode()
    )
    response = _post(client, draft_id, eid, digest)
    _refused(client, business, draft_id, response, "not issued by the platform")


def test_a_signature_of_answers_changed_since_is_refused(client, business, director_eid):  # type: ignore[no-untyped-def]
    draft_id = _draft(client, business)
    digest, _description = _signing(
        client.get(f"/en/my-account/drafts/{draft_id}/check/").content.decode()
    )
    response = client.post(
        f"/en/my-account/drafts/{draft_id}/vat/",
        {
            "reason": "voluntary",
            "vat_from-day": "1",
            "vat_from-month": "3",
            "vat_from-year": "2027",
            "email": "business@demo.egov.example",
        },
    )
    assert response.status_code == 302
    response = _post(client, draft_id, director_eid, digest)
    _refused(client, business, draft_id, response, "not of this application")


def test_an_old_signature_is_refused(client, business, director_eid):  # type: ignore[no-untyped-def]
    draft_id = _draft(client, business)
    digest, _description = _signing(
        client.get(f"/en/my-account/drafts/{draft_id}/check/").content.decode()
    )
    old = timezone.now() - datetime.timedelta(hours=2)
    response = _post(client, draft_id, director_eid, digest, at=old)
    _refused(client, business, draft_id, response, "The signature is too old.")


def test_garbage_posted_as_the_signature_is_a_translated_refusal(client, business):  # type: ignore[no-untyped-def]
    draft_id = _draft(client, business)
    response = client.post(
        f"/en/my-account/drafts/{draft_id}/check/",
        {"signature_cms": "bm90IGEgY21z", "signature_certificate": "junk"},
    )
    _refused(client, business, draft_id, response, "could not be read")


def test_the_api_refuses_a_signed_service_without_a_signature(business):  # type: ignore[no-untyped-def]
    client = bearer(business, assurance="high")
    response = client.post(
        "/api/v1/me/applications/",
        {
            "service": VAT,
            "on_behalf_unp": TRADER,
            "answers": {"reason": "voluntary", "vat_from": "2027-02-01", "email": "b@example.org"},
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="signed-1",
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "signature_required"
    assert not Application.objects.filter(applicant=business, service__code=VAT).exists()


# --- the API: the same signature, posted by another system ----------------------------------

API = "/api/v1/me/applications/"
APPEAL = "MNS-TAX-COMPLAINT"
VAT_ANSWERS = {"reason": "voluntary", "vat_from": "2027-02-01", "email": "b@example.org"}


def _form(client, service: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = client.get(f"/api/v1/catalogue/services/{service}/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200, response.content
    form = response.json()["application_form"]
    assert form["signature_required"] is True
    return form


def _api_signature(eid: EId, content: Any) -> dict[str, str]:
    return {
        "cms": eid.sign_base64(content.digest),
        "certificate": eid.certificate_pem,
        "chain": eid.chain_pem,
    }


def test_the_api_submits_a_vat_registration_with_a_valid_signature(business, director_eid):  # type: ignore[no-untyped-def]
    client = bearer(business, assurance="high")
    content = submission_content(
        service_code=VAT,
        version_number=_form(client, VAT)["version"],
        answers=VAT_ANSWERS,
        attachments=[],
    )
    response = client.post(
        API,
        {
            "service": VAT,
            "on_behalf_unp": TRADER,
            "answers": VAT_ANSWERS,
            "signature": _api_signature(director_eid, content),
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="signed-api-1",
    )
    assert response.status_code == 201, response.content
    application = Application.objects.get(number=response.json()["number"])
    signature = ApplicationSignature.objects.get(application=application)
    assert bytes(signature.signed_content) == content.content
    assert signature.digest == content.digest_hex
    assert signature.signer_personal_number == DIRECTOR
    assert application_signed_content(application).digest_hex == content.digest_hex
    assert Entry.objects.filter(kind="application.signed", data__application=application.number)


def test_the_api_submits_a_signed_tax_appeal_with_its_files(business, director_eid):  # type: ignore[no-untyped-def]
    client = bearer(business, assurance="high")
    answers = {
        "inspectorate": "Інспекцыя МПЗ па Савецкім раёне г. Мінска",
        "decision_number": "12-34/567",
        "decision_date": "2026-11-02",
        "grounds": "Падатак налічаны двойчы за адзін і той жа перыяд.",
        "request": "cancel_in_full",
        "email": "b@example.org",
    }
    decision = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    content = submission_content(
        service_code=APPEAL,
        version_number=_form(client, APPEAL)["version"],
        answers=answers,
        attachments=[("decision_copy", "рашэнне.pdf", hashlib.sha256(decision).hexdigest())],
    )
    payload = {
        "service": APPEAL,
        "on_behalf_unp": TRADER,
        "answers": answers,
        "signature": _api_signature(director_eid, content),
    }
    response = client.post(
        API,
        {
            "payload": json.dumps(payload),
            "decision_copy": SimpleUploadedFile("рашэнне.pdf", decision, "application/pdf"),
        },
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="signed-api-2",
    )
    assert response.status_code == 201, response.content
    application = Application.objects.get(number=response.json()["number"])
    signature = ApplicationSignature.objects.get(application=application)
    assert bytes(signature.signed_content) == content.content
    # What the back office recomputes from the stored files is what was signed.
    assert application_signed_content(application).content == content.content


def _posted_in_each_language(client, posted, key: str):  # type: ignore[no-untyped-def]
    """The VAT registration with ``posted`` as its signature, sent through the API once in
    English and once in Russian (each with its own idempotency key)."""
    for language in ("en", "ru"):
        yield (
            language,
            client.post(
                API,
                {
                    "service": VAT,
                    "on_behalf_unp": TRADER,
                    "answers": VAT_ANSWERS,
                    "signature": posted,
                },
                format="json",
                HTTP_IDEMPOTENCY_KEY=f"{key}-{language}",
                HTTP_ACCEPT_LANGUAGE=language,
            ),
        )


@pytest.mark.parametrize(
    ("signature", "code", "message"),
    [
        (
            "other answers",
            "signature_invalid",
            "The signature is not of this application: it may have changed since. Sign again.",
        ),
        ("garbage", "signature_invalid", "The signature could not be read. Sign again."),
        (
            "stranger",
            "signature_invalid",
            "The e-ID you signed with is not yours or that of a director of the organisation. "
            "Sign with your own e-ID.",
        ),
    ],
)
def test_the_api_refuses_an_invalid_signature_with_a_translated_problem(  # type: ignore[no-untyped-def]
    business, director_eid, module_pki, signature, code, message
):
    client = bearer(business, assurance="high")
    version = _form(client, VAT)["version"]
    signed = submission_content(
        service_code=VAT,
        version_number=version,
        answers={**VAT_ANSWERS, "vat_from": "2027-03-01"},
        attachments=[],
    )
    if signature == "other answers":
        posted = _api_signature(director_eid, signed)
    elif signature == "garbage":
        posted = {"cms": "bm90IGEgY21z"}
    else:
        stranger = UserFactory()
        eid = platform_eid(
            module_pki, stranger.personal_number, surname="Мароз", given_name="Ганна"
        )
        posted = _api_signature(
            eid,
            submission_content(
                service_code=VAT, version_number=version, answers=VAT_ANSWERS, attachments=[]
            ),
        )
    for language, response in _posted_in_each_language(client, posted, "signed-api-bad"):
        assert response.status_code == 400, response.content
        assert response["Content-Type"] == "application/problem+json"
        problem = response.json()
        assert problem["code"] == code
        with translation.override(language):
            assert problem["detail"] == translation.gettext(message)
    assert not Application.objects.filter(applicant=business, service__code=VAT).exists()
    assert not ApplicationSignature.objects.filter(application__applicant=business).exists()


def test_the_api_refuses_a_signing_time_backdated_to_before_a_revocation(business, module_pki):
    eid = platform_eid(module_pki, DIRECTOR, surname="Шымановіч", given_name="Андрэй")
    certificate_revoke(
        directory=module_pki, serial=eid.certificate.serial_number, reason="key_compromise"
    )
    client = bearer(business, assurance="high")
    content = submission_content(
        service_code=VAT,
        version_number=_form(client, VAT)["version"],
        answers=VAT_ANSWERS,
        attachments=[],
    )
    posted = {
        "cms": eid.sign_base64(content.digest, at=timezone.now() - datetime.timedelta(minutes=2)),
        "certificate": eid.certificate_pem,
        "chain": eid.chain_pem,
    }
    for language, response in _posted_in_each_language(client, posted, "signed-api-backdated"):
        assert response.status_code == 400, response.content
        problem = response.json()
        assert problem["code"] == "signature_invalid"
        with translation.override(language):
            assert problem["detail"] == translation.gettext(
                "Your e-ID certificate cannot be used for signing: %(reason)s"
            ) % {"reason": translation.gettext("The certificate has been revoked.")}
    assert not Application.objects.filter(applicant=business, service__code=VAT).exists()
    assert not ApplicationSignature.objects.filter(application__applicant=business).exists()
