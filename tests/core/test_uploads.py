"""Bodies over the upload limit: refused on their Content-Length before anything reads them,
and stopped while they stream when the header understates them. Nothing is written, a draft
keeps what it had, the refusal is a translated 413 and a security event."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import structlog
from django.core.asgi import get_asgi_application  # noqa: F401  (Django set up for ASGI)
from django.core.handlers.asgi import ASGIRequest
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

from egov.cases.models import Attachment, Draft
from egov.core.uploads import RequestSizeLimitMiddleware, UploadTooLarge, request_files
from egov.identity.api_auth import api_token_issue
from tests.factories import PDF, UserFactory, login

pytestmark = pytest.mark.django_db

LIMIT = 1024 * 1024
CHUNK = 64 * 1024  # Django's upload chunk size
BIRTH = "200.5.1"


class Unreadable(io.RawIOBase):
    """A request body that must not be read."""

    def read(self, *args: Any) -> bytes:
        raise AssertionError("the body was read")

    readline = readinto = read  # type: ignore[assignment]


class Counting(io.BytesIO):
    """A request body that remembers how much of it was read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.taken = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.taken += len(chunk)
        return chunk


@pytest.fixture(autouse=True)
def _small_limit(settings: Any, tmp_path: Path) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = LIMIT
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)


def stored(tmp_path: Path) -> list[Path]:
    return sorted(path for path in tmp_path.rglob("*") if path.is_file())


def _documents_step(client: Any) -> tuple[Draft, str]:
    login(client, UserFactory())
    response = client.post(f"/en/services/{BIRTH}/apply/")
    draft = Draft.objects.get(pk=response["Location"].split("/")[4])
    draft.data = {"child_last_name": "Мароз"}
    draft.save(update_fields=["data"])
    return draft, f"/en/my-account/drafts/{draft.pk}/documents/"


def test_a_declared_length_over_the_limit_is_refused_without_reading_the_body(
    client: Any, tmp_path: Path
) -> None:
    draft, documents = _documents_step(client)

    with structlog.testing.capture_logs() as events:
        response = client.generic(
            "POST",
            documents,
            b"",
            content_type=MULTIPART_CONTENT,
            CONTENT_LENGTH=str(300 * 1024 * 1024),
            **{"wsgi.input": Unreadable()},
        )

    assert response.status_code == 413
    page = response.content.decode()
    assert "The files are too large" in page
    assert "You can send at most 1 MB at once." in page
    assert f'href="{documents}"' in page
    assert Draft.objects.get(pk=draft.pk).data == {"child_last_name": "Мароз"}
    assert not Attachment.objects.filter(draft=draft).exists()
    assert stored(tmp_path) == []
    refusals = [event for event in events if event["event"] == "upload_refused"]
    assert refusals == [
        {
            "event": "upload_refused",
            "log_level": "warning",
            "reason": "content_length",
            "size": 300 * 1024 * 1024,
            "limit": LIMIT,
            "user_id": draft.applicant_id,
        }
    ]


def test_the_refusal_page_is_translated(client: Any) -> None:
    _draft, documents = _documents_step(client)

    response = client.generic(
        "POST",
        documents.replace("/en/", "/ru/"),
        b"",
        content_type=MULTIPART_CONTENT,
        CONTENT_LENGTH=str(LIMIT + 1),
        **{"wsgi.input": Unreadable()},
    )

    assert response.status_code == 413
    assert '<html lang="ru"' in response.content.decode()


def test_a_body_within_the_limit_is_attached(client: Any, tmp_path: Path) -> None:
    draft, documents = _documents_step(client)
    upload = io.BytesIO(PDF)
    upload.name = "даведка.pdf"

    response = client.post(documents, {"requirement": "medical_birth_certificate", "file": upload})

    assert response.status_code == 302
    assert Attachment.objects.filter(draft=draft).count() == 1


def _streamed_request(path: str, body: bytes, headers: list[tuple[bytes, bytes]]) -> Any:
    """An ASGI request whose Content-Length says less than the body holds."""
    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "query_string": b"",
        "headers": [
            (b"content-type", MULTIPART_CONTENT.encode()),
            (b"content-length", b"1000"),
            (b"host", b"testserver"),
            *headers,
        ],
    }
    stream = Counting(body)
    return ASGIRequest(scope, stream), stream


def _big_multipart() -> bytes:
    return encode_multipart(
        BOUNDARY,
        {
            "requirement": "medical_birth_certificate",
            "file": _named(PDF + b"0" * (3 * LIMIT), "big.pdf"),
        },
    )


def _named(data: bytes, name: str) -> io.BytesIO:
    upload = io.BytesIO(data)
    upload.name = name
    return upload


def test_a_body_longer_than_declared_stops_streaming_at_the_limit(tmp_path: Path) -> None:
    request, stream = _streamed_request("/en/my-account/drafts/x/documents/", _big_multipart(), [])

    with structlog.testing.capture_logs() as events, pytest.raises(UploadTooLarge):
        request_files(request)

    assert stream.taken <= LIMIT + 2 * CHUNK
    assert stream.taken < len(stream.getvalue()) - LIMIT
    assert stored(tmp_path) == []
    assert [(event["event"], event["reason"]) for event in events] == [
        ("upload_refused", "streamed")
    ]


def test_the_portal_answers_a_streamed_refusal_with_the_413_page(tmp_path: Path) -> None:
    request, _stream = _streamed_request("/en/my-account/drafts/x/documents/", _big_multipart(), [])
    request.LANGUAGE_CODE = "en"
    middleware = RequestSizeLimitMiddleware(lambda request: None)  # type: ignore[arg-type,return-value]

    response = middleware.process_view(request, None, (), {})

    assert response is not None
    assert response.status_code == 413
    assert "The files are too large" in response.content.decode()


def test_the_api_answers_a_streamed_refusal_with_a_413_problem(tmp_path: Path) -> None:
    from egov.api.views import MyApplicationsView

    token = api_token_issue(user=UserFactory(), name="t", assurance="substantial")
    body = encode_multipart(
        BOUNDARY, {"payload": "{}", "birth_document": _named(PDF + b"0" * (3 * LIMIT), "b.pdf")}
    )
    request, stream = _streamed_request(
        "/api/v1/me/applications/",
        body,
        [(b"authorization", f"Bearer {token}".encode()), (b"idempotency-key", b"streamed")],
    )

    response = MyApplicationsView.as_view()(request)
    response.render()

    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert response.data["code"] == "request_too_large"
    assert stream.taken <= LIMIT + 2 * CHUNK
    assert stored(tmp_path) == []
