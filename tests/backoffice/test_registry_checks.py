"""The case page shows what the registers said: the check, its outcome, the facts and the
message number; a check still waiting for the register says so."""

from __future__ import annotations

import pytest

from egov.cases.models import Application, RegistryCheck
from tests.backoffice.conftest import office_log_in
from tests.factories import CRIMINAL_RECORD_ANSWERS, OfficialFactory, UserFactory, submitted
from tests.registrydata.stub import PERSON_SERVICE, person

pytestmark = pytest.mark.django_db


def _case_page(client, application) -> str:  # type: ignore[no-untyped-def]
    office_log_in(client, OfficialFactory())
    response = client.get(f"/en/office/cases/{application.number}/")
    assert response.status_code == 200
    return response.content.decode()


def test_case_page_shows_a_passed_check_with_its_proof(client, exchange):
    citizen = UserFactory()
    exchange.answer(PERSON_SERVICE, citizen.personal_number, person(citizen.personal_number))
    application = submitted("MVD-NO-CRIMINAL-RECORD", citizen, CRIMINAL_RECORD_ANSWERS)
    Application.objects.filter(pk=application.pk).update(
        prefilled={"birth_date": "population.person"}
    )
    check = RegistryCheck.objects.get(application=application)
    html = _case_page(client, application)
    assert "Registry checks" in html
    assert "The applicant is alive (Population register)" in html
    assert "govuk-tag--green" in html
    assert check.message_id in html
    assert "1990-04-12" in html
    assert "From the population register" in html


def test_case_page_shows_a_pending_check(client, exchange):
    exchange.down()
    application = submitted("MVD-NO-CRIMINAL-RECORD", UserFactory(), CRIMINAL_RECORD_ANSWERS)
    html = _case_page(client, application)
    assert "Registry check pending" in html
    assert "The register could not be reached (1 attempt)" in html


def test_case_page_shows_a_failed_check_and_why(client, exchange):
    citizen = UserFactory()
    exchange.answer(
        PERSON_SERVICE, citizen.personal_number, person(citizen.personal_number, status="deceased")
    )
    application = submitted("MVD-NO-CRIMINAL-RECORD", citizen, CRIMINAL_RECORD_ANSWERS)
    html = _case_page(client, application)
    assert "govuk-tag--red" in html
    assert "The register records the person as deceased." in html
