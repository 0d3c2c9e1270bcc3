"""The back office checks a signed application's signature again whenever it shows the case
and before a decision: who signed and when, the certificate's status at signing time, a
revocation since (the signature made before still holds), and a signature that no longer
matches the application is shown as broken and blocks the decision."""

from __future__ import annotations

import datetime
import html

import pytest
from django.utils import timezone

from egov.cases import services
from egov.cases.models import Application, ApplicationEvent
from egov.cases.signatures import signature_submission_parse, submission_content
from egov.cases.workflow import TransitionNotAllowed
from egov.core.worker import tasks_run_pending
from egov.identity.models import User
from egov.trust.pki import certificate_revoke
from tests.backoffice.conftest import office_log_in, published
from tests.cases.eid import platform_eid
from tests.factories import OfficialFactory
from tests.registrydata.stub import ENTITY_SERVICE
from tests.trust import pki_fixtures

pytestmark = pytest.mark.django_db

# The platform's PKI for the module (CAs, OCSP responder), in force for each test.
module_pki = pki_fixtures.module_pki
pki = pki_fixtures.pki

VAT = "MNS-VAT-REG"
TRADER = "MA1953684"
DIRECTOR = "3010180A001PB8"
ANSWERS = {"reason": "voluntary", "vat_from": "2027-02-01", "email": "b@example.org"}


@pytest.fixture
def signed(exchange, pki, settings, tmp_path):  # type: ignore[no-untyped-def]
    """A VAT registration signed by the director, submitted; and the director's e-ID."""
    settings.MEDIA_ROOT = tmp_path / "media"
    exchange.answer(ENTITY_SERVICE, TRADER, {"unp": TRADER, "status": "active"})
    business = User.objects.get(email="business@demo.egov.example")
    eid = platform_eid(pki, DIRECTOR, surname="Шымановіч", given_name="Андрэй")
    version = published(VAT)
    content = submission_content(
        service_code=VAT, version_number=version.number, answers=ANSWERS, attachments=[]
    )
    application, _created = services.application_submit(
        applicant=business,
        version=version,
        data=ANSWERS,
        idempotency_key="signed-vat",
        language="en",
        on_behalf_unp=TRADER,
        signature=signature_submission_parse(
            # A little earlier than now: a revocation in the test's same second comes after.
            cms_base64=eid.sign_base64(
                content.digest, at=timezone.now() - datetime.timedelta(seconds=30)
            ),
            certificate_pem=eid.certificate_pem,
        ),
    )
    tasks_run_pending()
    application.refresh_from_db()
    return application, eid


@pytest.fixture
def clerk() -> User:
    return User.objects.get(email="clerk.mns@demo.egov.example")


def _page(client, application: Application) -> str:  # type: ignore[no-untyped-def]
    response = client.get(f"/en/office/cases/{application.number}/")
    assert response.status_code == 200
    return " ".join(html.unescape(response.content.decode()).split())


def test_the_case_shows_who_signed_when_and_the_certificate_status(client, signed, clerk):  # type: ignore[no-untyped-def]
    application, _eid = signed
    office_log_in(client, clerk)
    page = _page(client, application)
    signature = application.signature
    assert 'data-egov-signature="valid"' in page
    assert (
        f"Signed by Шымановіч Андрэй, {signature.signed_at.astimezone():%d.%m.%Y %H:%M:%S}" in page
    )
    assert "Valid when it was signed and when the platform received it." in page
    assert "Revoked since" not in page
    assert signature.digest in page


def test_a_certificate_revoked_after_signing_still_made_a_valid_signature(
    client, signed, clerk, pki
):  # type: ignore[no-untyped-def]
    application, eid = signed
    certificate_revoke(directory=pki, serial=eid.certificate.serial_number, reason="key_compromise")
    office_log_in(client, clerk)
    page = _page(client, application)
    assert 'data-egov-signature="valid"' in page
    assert "Valid when it was signed and when the platform received it." in page
    assert "Revoked since" in page
    assert "after signing: the signature, made before, still holds." in page
    # Both facts are shown, and the decision is not blocked by them.
    services.case_claim(actor=clerk, application_id=application.pk)
    decided = services.transition_fire(
        application_id=application.pk, transition_code="refuse", actor=clerk, comment="Не трэба."
    )
    assert decided.outcome == "refused"


def test_a_signature_that_no_longer_matches_is_broken_and_blocks_the_decision(
    client, signed, clerk
):  # type: ignore[no-untyped-def]
    application, _eid = signed
    Application.objects.filter(pk=application.pk).update(data={**ANSWERS, "vat_from": "2020-01-01"})
    office_log_in(client, clerk)
    page = _page(client, application)
    assert 'data-egov-signature="broken"' in page
    assert "The application no longer matches what was signed." in page
    services.case_claim(actor=clerk, application_id=application.pk)
    events = ApplicationEvent.objects.filter(application=application).count()
    with pytest.raises(TransitionNotAllowed, match="no longer matches the application"):
        services.transition_fire(
            application_id=application.pk, transition_code="refuse", actor=clerk, comment="Не."
        )
    application.refresh_from_db()
    assert application.state == "in_review"
    assert ApplicationEvent.objects.filter(application=application).count() == events
    page = _page(client, application)
    assert "no longer matches the application: it cannot be decided." in page


def test_an_official_of_another_agency_does_not_see_the_signature(client, signed):  # type: ignore[no-untyped-def]
    application, _eid = signed
    office_log_in(client, OfficialFactory())  # MVD
    response = client.get(f"/en/office/cases/{application.number}/")
    assert response.status_code == 404
