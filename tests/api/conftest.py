"""Callers of the API and applications to call it about.

Every response a test receives through these clients is checked against the committed
OpenAPI document (``contract.check``), so each test is also a contract test.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Model
from rest_framework.test import APIClient

from egov.cases.models import Application, ApplicationEvent, Attachment, InformationRequest
from egov.cases.services import application_advance, application_submit
from egov.catalog.models import Service, VersionStatus
from egov.identity.api_auth import api_token_issue
from egov.identity.models import User
from tests.api import contract
from tests.factories import UserFactory

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64

CRIMINAL_RECORD = "MVD-NO-CRIMINAL-RECORD"
RESIDENCE = "200.13.1"
HOUSE_PERMIT = "MGI-HOUSE-PERMIT"
CHILD_PASSPORT = "200.11.2.5"

ANSWERS: dict[str, dict[str, Any]] = {
    CRIMINAL_RECORD: {
        "personal_number": "4150592M012PB5",
        "birth_date": "1992-05-15",
        "birth_place": "Мінск",
        "name_changed": False,
        "purpose": "employment",
        "delivery": "e_account",
        "email": "alena@example.org",
    },
    RESIDENCE: {
        "locality": "Мінск",
        "street": "вуліца Кірава",
        "house": "12",
        "postal_code": "220030",
        "moved_in_date": "2026-01-12",
        "housing_basis": "owner",
        "fee_exemption": "none",
        "with_children": False,
    },
    CHILD_PASSPORT: {
        "child_personal_number": "5150592M012PB5",
        "child_last_name": "Каваленка",
        "child_first_name": "Ян",
        "child_birth_date": "2015-03-01",
        "current_passport_number": "MP1234567",
        "replacement_reason": "expired",
        "representative_relation": "mother",
        "accelerated": False,
        "phone": "+375291234567",
    },
    HOUSE_PERMIT: {
        "plot_address": "Мінская вобласць, вёска Сонечная, 4",
        "cadastral_number": "622680603101000123",
        "plot_right": "private_ownership",
        "jointly_owned": False,
        "works_type": "new_build",
        "storeys": 2,
        "total_area": 120.5,
        "phone": "+375291234567",
    },
}


class ContractClient(APIClient):
    """An API client whose every /api/v1/ response must match the OpenAPI document."""

    def request(self, **request: Any) -> Any:
        response = super().request(**request)
        path = request.get("PATH_INFO", "")
        if path.startswith(contract.API_PREFIX):
            contract.check(response, request["REQUEST_METHOD"], path)
        return response


def bearer(user: User | None, assurance: str = "substantial") -> ContractClient:
    client = ContractClient()
    if user is not None:
        token = api_token_issue(user=user, name="tests", assurance=assurance)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def demo_user(email: str) -> User:
    return User.objects.get(email=email)


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def citizen(db: Any) -> User:
    return demo_user("citizen@demo.egov.example")


@pytest.fixture
def other_citizen(db: Any) -> User:
    return UserFactory()  # type: ignore[return-value]


@pytest.fixture
def business(db: Any) -> User:
    return demo_user("business@demo.egov.example")


@pytest.fixture
def clerk(db: Any) -> User:
    return demo_user("clerk.mvd@demo.egov.example")


@pytest.fixture
def decider(db: Any) -> User:
    return demo_user("decider.mvd@demo.egov.example")


@pytest.fixture
def foreign_clerk(db: Any) -> User:
    """An official of another agency (the Ministry of Labour)."""
    return demo_user("clerk.mintruda@demo.egov.example")


@pytest.fixture
def anonymous() -> ContractClient:
    return ContractClient()


def published_version(code: str) -> Any:
    return Service.objects.get(code=code).versions.get(status=VersionStatus.PUBLISHED)


def submit(
    applicant: User,
    code: str = CRIMINAL_RECORD,
    *,
    accept: bool = True,
    uploads: dict[str, list[Any]] | None = None,
) -> Application:
    """An application made through the service layer, accepted for review by the system
    step the worker would run."""
    application, _created = application_submit(
        applicant=applicant,
        version=published_version(code),
        data=ANSWERS[code],
        idempotency_key=uuid.uuid4().hex,
        language="en",
        uploads=uploads,
    )
    if accept:
        application_advance(application_id=application.pk)
    application.refresh_from_db()
    return application


@pytest.fixture
def application(citizen: User) -> Application:
    """The demo citizen's criminal record application, in review at the MVD."""
    return submit(citizen)


def pdf(name: str = "document.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def snapshot(*objects: Model) -> dict[str, Any]:
    """Everything a refused call must leave as it was."""
    state: dict[str, Any] = {
        "applications": Application.objects.count(),
        "events": ApplicationEvent.objects.count(),
        "attachments": Attachment.objects.count(),
        "requests": InformationRequest.objects.count(),
    }
    for item in objects:
        fresh = type(item)._default_manager.get(pk=item.pk)
        state[f"{type(item).__name__}:{item.pk}"] = {
            field.attname: getattr(fresh, field.attname) for field in fresh._meta.concrete_fields
        }
    return state


@pytest.fixture
def unchanged() -> Callable[..., Any]:
    """``with unchanged(application): ...`` asserts the block changed nothing."""
    from contextlib import contextmanager

    @contextmanager
    def guard(*objects: Model) -> Any:
        before = snapshot(*objects)
        yield
        assert snapshot(*objects) == before

    return guard
