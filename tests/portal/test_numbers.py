"""A number field of a form: huge or malformed numbers get a message at the field and are not
saved; the draft keeps what it had."""

from __future__ import annotations

import pytest

from egov.cases.models import Draft
from tests.factories import UserFactory, login

pytestmark = pytest.mark.django_db

HOUSE_PERMIT = "MGI-HOUSE-PERMIT"
WORKS = {"works_type": "new_build", "total_area": "120,5"}


def _works_step(client) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    login(client, UserFactory())
    response = client.post(f"/en/services/{HOUSE_PERMIT}/apply/")
    assert response.status_code == 302
    draft_id = response["Location"].split("/")[4]
    return draft_id, f"/en/my-account/drafts/{draft_id}/works/"


@pytest.mark.parametrize(
    ("storeys", "message"),
    [
        ("1e300000", "Enter a number with no more than 20 digits."),
        ("1e1000000", "Enter a number with no more than 20 digits."),
        ("9" * 5000, "Enter a number with no more than 20 digits."),
        ("9" * 5001, "Enter 5000 characters or fewer."),
        ("-1e999", "Enter a number with no more than 20 digits."),
        ("NaN", "Enter a number."),
        ("Infinity", "Enter a number."),
        ("2.5", "Enter a whole number."),
    ],
)
def test_a_number_out_of_bounds_is_a_field_error_and_nothing_is_saved(
    client, storeys: str, message: str
) -> None:
    draft_id, works = _works_step(client)
    before = Draft.objects.get(pk=draft_id).data

    response = client.post(works, {**WORKS, "storeys": storeys})

    assert response.status_code == 400
    page = response.content.decode()
    assert 'href="#f-storeys"' in page
    assert message in page
    assert Draft.objects.get(pk=draft_id).data == before


def test_a_float_field_refuses_a_huge_exponent(client) -> None:
    draft_id, works = _works_step(client)

    response = client.post(works, {**WORKS, "storeys": "2", "total_area": "1e300000"})

    assert response.status_code == 400
    assert "Enter a number with no more than 20 digits." in response.content.decode()
    assert Draft.objects.get(pk=draft_id).data == {}


def test_a_number_within_the_bounds_is_saved(client) -> None:
    draft_id, works = _works_step(client)

    response = client.post(works, {**WORKS, "storeys": "2"})

    assert response.status_code == 302
    data = Draft.objects.get(pk=draft_id).data
    assert (data["storeys"], data["total_area"]) == (2, 120.5)
