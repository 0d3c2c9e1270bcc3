"""The back office checks a signed application's signature again whenever it shows the case
and before a decision: who signed and when, the certificate's status at signing time, a
revocation since (the signature made before still holds), and a signature that no longer
matches the application is shown as broken and blocks the decision."""

from __future__ import annotations

import html

import pytest

from egov.cases import services
from egov.cases.models import Application, ApplicationEvent
from egov.cases.workflow import TransitionNotAllowed
from egov.identity.models import User
from egov.trust.pki import certificate_revoke
from tests.backoffice.conftest import office_log_in
from tests.cases.eid import VAT_ANSWERS, vat_registration_signed
from tests.factories import OfficialFactory
from tests.trust import pki_fixtures

pytestmark = pytest.mark.django_db

# The platform's PKI for the module (CAs, OCSP responder), in force for each test.
module_pki = pki_fixtures.module_pki
pki = pki_fixtures.pki


@pytest.fixture
def signed(exchange, pki, settings, tmp_path):  # type: ignore[no-untyped-def]
    """A VAT registration signed by the director, submitted; and the director's e-ID."""
    return vat_registration_signed(exchange, pki, settings, tmp_path)


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
    Application.objects.filter(pk=application.pk).update(
        data={**VAT_ANSWERS, "vat_from": "2020-01-01"}
    )
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
