"""Revoking an API token by the id a form posts: only the owner's, and any text is safe."""

from __future__ import annotations

import pytest

from egov.identity.api_auth import api_token_issue, api_token_revoke
from egov.identity.models import ApiToken
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("token_id", ["9" * 25, "1e300000", "9" * 5000, "-1", "NaN", "", "１"])
def test_revoking_with_an_id_out_of_bounds_changes_nothing(token_id: str) -> None:
    owner = UserFactory()
    api_token_issue(user=owner, name="mine", assurance="substantial")

    api_token_revoke(actor=owner, token_id=token_id)

    assert list(ApiToken.objects.filter(user=owner).values_list("name", flat=True)) == ["mine"]


def test_the_owner_revokes_a_token_and_another_person_cannot() -> None:
    owner, other = UserFactory(), UserFactory()
    api_token_issue(user=owner, name="mine", assurance="substantial")
    token = ApiToken.objects.get(user=owner)

    api_token_revoke(actor=other, token_id=str(token.pk))
    assert ApiToken.objects.filter(pk=token.pk).exists()

    api_token_revoke(actor=owner, token_id=f" {token.pk} ")
    assert not ApiToken.objects.filter(pk=token.pk).exists()
