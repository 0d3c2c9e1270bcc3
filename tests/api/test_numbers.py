"""Numbers in API bodies and query parameters are bounded on their text: a 400 problem with a
stable code, nothing written."""

from __future__ import annotations

import json
from typing import Any

import pytest

from egov.identity.models import User
from tests.api.conftest import ANSWERS, HOUSE_PERMIT, ContractClient, bearer, pdf

pytestmark = pytest.mark.django_db

LIST = "/api/v1/me/applications/"
BOUNDS_DETAIL = (
    "The body has a number with more than 20 digits before or after the decimal point. "
    "Send smaller numbers."
)


@pytest.fixture
def client(citizen: User) -> ContractClient:
    return bearer(citizen)


def _body(storeys: str) -> bytes:
    answers = json.dumps({**ANSWERS[HOUSE_PERMIT], "storeys": "STOREYS"})
    body = json.dumps({"service": HOUSE_PERMIT})[:-1] + ', "answers": ' + answers + "}"
    return body.replace('"STOREYS"', storeys).encode()


def _send(client: ContractClient, raw: bytes) -> Any:
    return client.generic(
        "POST",
        LIST,
        raw,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="numbers",
        HTTP_ACCEPT_LANGUAGE="en",
    )


@pytest.mark.parametrize(
    "storeys", ["1e300000", "1e1000000", "9" * 5000, "1" * 100_000, "-1e999", "2.5e-300"]
)
def test_a_json_number_out_of_bounds_is_a_400_and_nothing_is_saved(
    client: ContractClient, unchanged: Any, storeys: str
) -> None:
    with unchanged():
        response = _send(client, _body(storeys))

    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["detail"]) == ("number_out_of_bounds", BOUNDS_DETAIL)


@pytest.mark.parametrize("storeys", ["NaN", "Infinity", "-Infinity"])
def test_json_constants_that_are_not_numbers_are_a_400(
    client: ContractClient, unchanged: Any, storeys: str
) -> None:
    with unchanged():
        response = _send(client, _body(storeys))

    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["detail"]) == ("parse_error", "The body is not valid JSON.")


def test_a_number_out_of_bounds_in_a_multipart_payload_is_a_400(
    client: ContractClient, unchanged: Any
) -> None:
    with unchanged():
        response = client.post(
            LIST,
            {"payload": _body("1e300000").decode(), "land_right_document": pdf()},
            format="multipart",
            HTTP_IDEMPOTENCY_KEY="numbers",
            HTTP_ACCEPT_LANGUAGE="en",
        )

    assert response.status_code == 400
    assert response.json()["code"] == "number_out_of_bounds"


def test_a_number_within_the_bounds_reaches_the_form_schema(
    client: ContractClient, unchanged: Any
) -> None:
    with unchanged():
        response = _send(client, _body("4"))

    assert response.status_code == 400
    assert response.json()["errors"]["storeys"] == "Enter a number no more than 3."


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("limit=1e300000", {"limit": ["Enter a whole number of 1 or more."]}),
        ("limit=" + "9" * 5000, {"limit": ["Enter a whole number of 1 or more."]}),
        ("limit=NaN", {"limit": ["Enter a whole number of 1 or more."]}),
        ("limit=0", {"limit": ["Enter a whole number of 1 or more."]}),
        ("offset=1e1000000", {"offset": ["Enter a whole number from 0 to 2147483647."]}),
        ("offset=-1e999", {"offset": ["Enter a whole number from 0 to 2147483647."]}),
        ("offset=99999999999999999999", {"offset": ["Enter a whole number from 0 to 2147483647."]}),
        ("offset=Infinity", {"offset": ["Enter a whole number from 0 to 2147483647."]}),
    ],
)
@pytest.mark.parametrize("path", [LIST, "/api/v1/catalogue/services/"])
def test_paging_parameters_out_of_bounds_are_a_400_naming_the_parameter(
    client: ContractClient, path: str, query: str, errors: dict[str, list[str]]
) -> None:
    response = client.get(f"{path}?{query}", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["errors"] == errors


def test_paging_parameters_within_the_bounds_page(client: ContractClient) -> None:
    response = client.get("/api/v1/catalogue/services/?limit=2&offset=1")

    assert response.status_code == 200
    assert len(response.json()["results"]) == 2
