"""Back-office fixtures: a citizen's applications made through the services, officials of the
agency that handles them (MVD) and of another agency (MINTRUDA), and an office session."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from egov.cases import services
from egov.cases.models import Application
from egov.catalog.models import Agency, Service
from egov.core.worker import tasks_run_pending
from egov.identity.models import User
from egov.identity.selectors import SESSION_LOA
from tests.factories import OfficialFactory, UserFactory

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
CRIMINAL_RECORD = "MVD-NO-CRIMINAL-RECORD"
CHILD_PASSPORT = "200.11.2.5"  # MVD as well, and four-eyes


def office_log_in(client: Any, user: User) -> None:
    """An official's session as after the password and the authenticator code."""
    client.force_login(user)
    session = client.session
    session[SESSION_LOA] = "substantial"
    session.save()


def published(code: str) -> Any:
    return Service.objects.get(code=code).versions.get(status="published")


def criminal_record_data(applicant: User, **changes: Any) -> dict[str, Any]:
    data = {
        "personal_number": applicant.personal_number,
        "birth_date": "1990-05-15",
        "birth_place": "Мінск",
        "name_changed": False,
        "purpose": "employment",
        "delivery": "e_account",
        "email": "alena@example.org",
    }
    data.update(changes)
    return data


def child_passport_data() -> dict[str, Any]:
    return {
        "child_personal_number": "5010120A001PB1",
        "child_last_name": "Мароз",
        "child_first_name": "Ян",
        "child_birth_date": "2016-03-01",
        "current_passport_number": "MP1234567",
        "replacement_reason": "expired",
        "representative_relation": "mother",
        "accelerated": False,
        "phone": "+375291234567",
    }


def submit(
    applicant: User,
    *,
    code: str = CRIMINAL_RECORD,
    data: dict[str, Any] | None = None,
    uploads: dict[str, list[SimpleUploadedFile]] | None = None,
) -> Application:
    """Submit through the service and run the automatic step: the case is then in review."""
    if data is None:
        data = criminal_record_data(applicant) if code == CRIMINAL_RECORD else child_passport_data()
    if uploads is None and code == CHILD_PASSPORT:
        uploads = {
            "child_photo": [SimpleUploadedFile("photo.png", PNG)],
            "birth_certificate": [SimpleUploadedFile("birth.pdf", PDF)],
            "current_passport_pages": [SimpleUploadedFile("pages.pdf", PDF)],
        }
    application, created = services.application_submit(
        applicant=applicant,
        version=published(code),
        data=data,
        idempotency_key=uuid.uuid4().hex,
        language="en",
        uploads=uploads,
    )
    assert created
    tasks_run_pending()
    application.refresh_from_db()
    assert application.state == "in_review"
    return application


def snapshot(application: Application) -> dict[str, Any]:
    """Everything a refused request must leave as it was."""
    application.refresh_from_db()
    return {
        "state": application.state,
        "state_kind": application.state_kind,
        "history_length": application.history_length,
        "events": application.events.count(),
        "notes": application.internal_notes.count(),
        "requests": application.information_requests.count(),
        "assignee": application.assignee_id,
        "deadline": application.deadline,
        "paused_at": application.paused_at,
        "decided_at": application.decided_at,
    }


@pytest.fixture
def _no_other_cases(db: None) -> None:
    """These tests count cases exactly, so they start from none, whatever sample applications
    the demo seed may bring (removed inside the test's transaction, so only for the test)."""
    Application.objects.all().delete()


@pytest.fixture
def citizen(_no_other_cases: None) -> User:
    return UserFactory(last_name="Каваленка", first_name="Алена", patronymic="Сяргееўна")


@pytest.fixture
def clerk() -> User:
    return OfficialFactory(last_name="Новік", first_name="Марына", official_role="clerk")


@pytest.fixture
def decider() -> User:
    return OfficialFactory(
        last_name="Лукашэвіч", first_name="Павел", official_role="decision_maker"
    )


@pytest.fixture
def agency_admin() -> User:
    return OfficialFactory(last_name="Сінкевіч", first_name="Ала", official_role="agency_admin")


@pytest.fixture
def other_official() -> User:
    return OfficialFactory(
        last_name="Гарэлік",
        first_name="Вольга",
        official_role="decision_maker",
        agency=Agency.objects.get(code="MINTRUDA"),
    )


@pytest.fixture
def application(citizen: User) -> Application:
    return submit(citizen)


from tests.registrydata.stub import exchange, exchange_down  # noqa: E402, F401


@pytest.fixture(autouse=True)
def _no_real_gateway(exchange_down: str) -> None:  # noqa: F811
    """No test here reaches a real gateway: the exchange is down unless a test asks for it."""
    return None
