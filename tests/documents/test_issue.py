"""Issuing: the workflow asks for a document with the decision, the worker signs it."""

from __future__ import annotations

import pytest

from egov.cases import services
from egov.core.worker import tasks_run_pending
from egov.documents.models import IssuedDocument
from tests.factories import CRIMINAL_RECORD_ANSWERS, OfficialFactory, UserFactory, submitted

pytestmark = pytest.mark.django_db

CRIMINAL = "MVD-NO-CRIMINAL-RECORD"


def decided(approve: bool = True):  # type: ignore[no-untyped-def]
    citizen = UserFactory(language="be")
    application = submitted(CRIMINAL, citizen, CRIMINAL_RECORD_ANSWERS)
    clerk = OfficialFactory(official_role="clerk", first_name="Іван", last_name="Сідарэнка")
    services.case_claim(actor=clerk, application_id=application.pk)
    services.transition_fire(
        application_id=application.pk,
        transition_code="approve" if approve else "refuse",
        actor=clerk,
        comment="Рашэнне прынята." if approve else "Не прадстаўлены дакументы.",
    )
    return application, clerk


def test_decision_is_signed_by_the_worker(pki):
    application, _clerk = decided()
    document = IssuedDocument.objects.get(application=application)
    assert document.status == "pending"
    assert document.kind == "decision"
    assert tasks_run_pending() >= 1
    document.refresh_from_db()
    assert document.status == "signed", document.last_error
    pdf = document.file.read()
    assert pdf.startswith(b"%PDF")
