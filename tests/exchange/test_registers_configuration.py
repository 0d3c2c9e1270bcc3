"""The platform's registers are configuration: each register's services are its provider
subsystem (``EGOV_REGISTRY_<REGISTER>_SUBSYSTEM``) and a service code, the portal's client
``EGOV_EXCHANGE_CLIENT``, whose instance and class also name the back offices and prefix
``X-Road-UserId``. An empty provider subsystem is a register the country does not have: no
call, no warning, answers typed in, checks reported as not available at once."""

from __future__ import annotations

import pytest

from egov.cases import registry_data
from egov.cases.models import RegistryCheck
from egov.exchange.client import backoffice_client, registry_service, system_user_id, user_id_for
from egov.identity.services import directed_by_service, representations_refresh
from tests.factories import CRIMINAL_RECORD_ANSWERS, UserFactory, login, submitted
from tests.registrydata.stub import person

pytestmark = pytest.mark.django_db

KZ_PERSON = "KZ/GOV/MIA/population/person"
RESIDENCE = "200.13.1"  # prefill from the population register; prefill_unavailable: type_in
CRIMINAL_RECORD = "MVD-NO-CRIMINAL-RECORD"  # checks the applicant is alive
DATA_ACCESS = "/en/my-account/data-access/"


@pytest.fixture
def kazakhstan(settings):  # type: ignore[no-untyped-def]
    settings.EXCHANGE_CLIENT = "KZ/GOV/EGOV/portal"
    settings.REGISTRY_PROVIDERS = {
        "population": "KZ/GOV/MIA/population",
        "legal_entities": "",
        "addresses": "",
    }
    return settings


def test_identifiers_follow_the_settings(kazakhstan) -> None:
    official = UserFactory(personal_number="")
    assert registry_service("population", "person") == KZ_PERSON
    assert registry_service("legal_entities", "entity") == ""
    assert directed_by_service() == ""
    assert backoffice_client("MVD") == "KZ/GOV/MVD/backoffice"
    assert user_id_for(UserFactory(personal_number="900101300123")) == "KZ900101300123"
    assert user_id_for(official) == f"KZ-STAFF-{official.pk}"
    assert system_user_id() == "KZ-STAFF-SYSTEM"
    kazakhstan.REGISTRY_PROVIDERS = {
        **kazakhstan.REGISTRY_PROVIDERS,
        "legal_entities": "KZ/GOV/MJ/le",
    }
    assert directed_by_service() == "KZ/GOV/MJ/le/directed-by"


def test_prefill_asks_the_configured_register_as_the_configured_client(
    client, exchange, kazakhstan
) -> None:
    citizen = UserFactory()
    login(client, citizen)
    exchange.answer(KZ_PERSON, citizen.personal_number, person(citizen.personal_number))

    response = client.post(f"/en/services/{RESIDENCE}/apply/")
    page = client.get(response["Location"])

    (call,) = exchange.calls(KZ_PERSON)
    assert call.path == f"/r1/{KZ_PERSON}/{citizen.personal_number}"
    assert call.headers["X-Road-Client"] == "KZ/GOV/EGOV/portal"
    assert call.headers["X-Road-UserId"] == f"KZ{citizen.personal_number}"
    assert "Каваленка" in page.content.decode()
    assert not [item for item in exchange.received if "/BY/" in item.path]


def test_a_registry_check_calls_as_the_agencys_back_office_of_the_instance(
    exchange, kazakhstan
) -> None:
    citizen = UserFactory()
    exchange.answer(KZ_PERSON, citizen.personal_number, person(citizen.personal_number))

    application = submitted(CRIMINAL_RECORD, citizen, CRIMINAL_RECORD_ANSWERS)

    check = RegistryCheck.objects.get(application=application)
    assert check.status == RegistryCheck.Status.PASSED
    (call,) = exchange.calls(KZ_PERSON)
    assert call.headers["X-Road-Client"] == f"KZ/GOV/{application.agency.code}/backoffice"
    assert call.headers["X-Road-UserId"] == "KZ-STAFF-SYSTEM"


def test_without_the_population_register_the_answers_are_typed_in(
    client, exchange, settings
) -> None:
    settings.REGISTRY_PROVIDERS = {**settings.REGISTRY_PROVIDERS, "population": ""}
    login(client, UserFactory())

    response = client.post(f"/en/services/{RESIDENCE}/apply/")
    page = client.get(response["Location"])
    html = page.content.decode()

    assert page.status_code == 200
    assert 'name="applicant_last_name"' in html  # typed in, not read-only from a register
    assert "From the population register" not in html
    assert "We cannot reach" not in html
    assert exchange.received == []


def test_a_check_against_a_register_the_country_lacks_is_not_available_at_once(
    exchange, settings
) -> None:
    settings.REGISTRY_PROVIDERS = {**settings.REGISTRY_PROVIDERS, "population": ""}

    application = submitted(CRIMINAL_RECORD, UserFactory(), CRIMINAL_RECORD_ANSWERS)

    check = RegistryCheck.objects.get(application=application)
    assert (check.status, check.detail, check.attempts) == ("failed", "register_absent", 1)
    assert check.next_attempt_at is None
    assert registry_data.check_detail(check) == (
        "This register is not available in this country: check the facts another way."
    )
    assert exchange.received == []


def test_the_cabinet_does_not_warn_about_a_register_the_country_lacks(
    client, exchange_down, settings
) -> None:
    """ "Who used my data" reads the audit ledger, not the registers: with the exchange down
    it warns about no register, and never names one the country lacks."""
    login(client, UserFactory())
    with_register = client.get(DATA_ACCESS)
    settings.REGISTRY_PROVIDERS = {**settings.REGISTRY_PROVIDERS, "legal_entities": ""}
    without = client.get(DATA_ACCESS)

    assert with_register.status_code == without.status_code == 200
    for page in (with_register.content.decode(), without.content.decode()):
        assert "these registers at the moment" not in page
    assert "legal entities register" not in without.content.decode().lower()


def test_a_business_users_page_works_without_a_legal_entities_register(
    client, exchange, settings
) -> None:
    settings.REGISTRY_PROVIDERS = {**settings.REGISTRY_PROVIDERS, "legal_entities": ""}
    business = UserFactory(kind="business")
    login(client, business)

    page = client.get("/en/my-account/")
    refreshed = client.post("/en/my-account/organisations/refresh/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "Check the register again" not in html
    assert "legal entities register" not in html
    assert (refreshed.status_code, refreshed["Location"]) == (302, "/en/my-account/")
    assert representations_refresh(user=business) == {"added": 0, "kept": 0, "ended": 0}
    assert exchange.received == []
