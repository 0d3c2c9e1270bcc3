"""The demo seed leaves every decided application with its signed document: seeded as
`egov demo` does (the platform PKI, `egov trust setup`, the applications in every state, the
worker's tasks run in process), each decision's PDF verifies."""

from __future__ import annotations

import pytest

from egov.cases.models import Application
from egov.catalog.models import Agency
from egov.demo.applications import demo_applications_seed
from egov.documents.models import DocumentStatus, IssuedDocument
from egov.documents.verification import pdf_verify
from egov.trust.setup import Agency as TrustAgency
from egov.trust.setup import platform_pki_init, trust_setup

pytestmark = pytest.mark.django_db


def test_every_decided_demo_application_has_a_signed_document_that_verifies(settings, tmp_path):
    settings.PKI_DIR = tmp_path / "pki"
    settings.PKI_PKCS11_KEYS = []
    platform_pki_init(actor="demo seed")
    trust_setup(
        agencies=[
            TrustAgency(code=a.code, name=a.name, short_name=a.short_name)
            for a in Agency.objects.all()
        ],
        actor="demo seed",
    )

    assert demo_applications_seed()["applications"] > 0

    decided = list(
        Application.objects.filter(state__in=["approved", "refused"]).select_related("service")
    )
    assert {a.state for a in decided} == {"approved", "refused"}
    for application in decided:
        documents = list(IssuedDocument.objects.filter(application=application))
        assert documents, (
            application.number,
            application.service.code,
            application.state,
            list(application.events.values_list("transition", flat=True)),
        )
        for document in documents:
            assert document.status == DocumentStatus.SIGNED, (
                application.number,
                document.last_error,
            )
            with document.file.open("rb") as handle:
                report = pdf_verify(handle.read())
            assert report.valid, (application.number, report.problems)
            assert report.sha256 == document.sha256
