"""API bodies whose Content-Length is over the limit are refused before they are read."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test.client import MULTIPART_CONTENT

from egov.identity.models import User
from tests.api.conftest import ContractClient, bearer

pytestmark = pytest.mark.django_db

LIST = "/api/v1/me/applications/"


class Unreadable(io.RawIOBase):
    def read(self, *args: Any) -> bytes:
        raise AssertionError("the body was read")

    readline = readinto = read  # type: ignore[assignment]


@pytest.fixture
def client(citizen: User) -> ContractClient:
    return bearer(citizen)


@pytest.mark.parametrize(
    ("content_type", "length"),
    [
        (MULTIPART_CONTENT, 300 * 1024 * 1024),
        ("application/json", 300 * 1024 * 1024),
        ("application/json", 1024 * 1024 + 1),
        (MULTIPART_CONTENT, 10**30),
    ],
)
def test_a_declared_length_over_the_limit_is_a_413_problem_without_reading(
    client: ContractClient, unchanged: Any, content_type: str, length: int
) -> None:
    with unchanged():
        response = client.generic(
            "POST",
            LIST,
            b"",
            content_type=content_type,
            CONTENT_LENGTH=str(length),
            HTTP_IDEMPOTENCY_KEY="big",
            HTTP_ACCEPT_LANGUAGE="en",
            **{"wsgi.input": Unreadable()},
        )

    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["code"], body["detail"]) == (
        "request_too_large",
        "The request is too large. Send less data or smaller files.",
    )
