"""Downloading a case's files: the stored bytes, as an attachment, never sniffed, and only
through the case the file belongs to."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from egov.cases import services
from egov.core.files import content_disposition
from tests.backoffice.conftest import PDF, PNG, criminal_record_data, office_log_in, submit

pytestmark = pytest.mark.django_db

ENCODED = (
    "%D0%94%D0%B0%D0%B2%D0%B5%D0%B4%D0%BA%D0%B0%20%D0%B0%D0%B1%20%D1%88%D0%BB%D1%8E%D0%B1%D0%B5"
)


def with_file(citizen, name="Даведка аб шлюбе.pdf", content=PDF):
    return submit(
        citizen,
        data=criminal_record_data(citizen, name_changed=True, former_names="Іваненка Алена"),
        uploads={"name_change_documents": [SimpleUploadedFile(name, content)]},
    )


def test_file_is_downloaded_as_an_attachment_with_its_name(client, citizen, clerk):
    application = with_file(citizen)
    attachment = application.attachments.get()
    office_log_in(client, clerk)
    response = client.get(f"/en/office/cases/{application.number}/files/{attachment.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f"attachment; filename=\"file.pdf\"; filename*=UTF-8''{ENCODED}.pdf"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Length"] == str(len(PDF))
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == PDF


def test_file_of_an_answer_to_a_request_is_downloaded_too(client, citizen, clerk):
    application = submit(citizen)
    services.case_claim(actor=clerk, application_id=application.pk)
    services.transition_fire(
        application_id=application.pk,
        transition_code="request_information",
        actor=clerk,
        comment="Дашліце фота.",
    )
    services.information_answer(
        actor=citizen,
        application_id=application.pk,
        answer="Дасылаю.",
        uploads=[SimpleUploadedFile("photo.png", PNG)],
    )
    attachment = application.attachments.get()
    assert attachment.information_request is not None
    office_log_in(client, clerk)
    page = client.get(f"/en/office/cases/{application.number}/").content.decode()
    assert f'href="/en/office/cases/{application.number}/files/{attachment.pk}/"' in page
    assert "Дасылаю." in page
    response = client.get(f"/en/office/cases/{application.number}/files/{attachment.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == (
        "attachment; filename=\"photo.png\"; filename*=UTF-8''photo.png"
    )
    assert b"".join(response.streaming_content) == PNG


def test_another_cases_file_is_not_found_through_this_case(client, citizen, clerk):
    application = with_file(citizen)
    other = with_file(citizen, name="other.pdf")
    other_file = other.attachments.get()
    office_log_in(client, clerk)
    url = f"/en/office/cases/{application.number}/files/{other_file.pk}/"
    assert client.get(url).status_code == 404
    assert (
        client.get(f"/en/office/cases/{application.number}/files/{uuid.uuid4()}/").status_code
        == 404
    )
    # the same file through its own case is fine
    assert client.get(f"/en/office/cases/{other.number}/files/{other_file.pk}/").status_code == 200


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.pdf", "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"),
        (
            "Café menu.pdf",
            "attachment; filename=\"Cafe menu.pdf\"; filename*=UTF-8''Caf%C3%A9%20menu.pdf",
        ),
        ('a"b;c.pdf', "attachment; filename=\"abc.pdf\"; filename*=UTF-8''a%22b%3Bc.pdf"),
        (
            "Заява.pdf",
            'attachment; filename="file.pdf"; '
            "filename*=UTF-8''%D0%97%D0%B0%D1%8F%D0%B2%D0%B0.pdf",
        ),
    ],
)
def test_content_disposition_follows_rfc_6266(name, expected):
    assert content_disposition(name) == expected
