"""Production hashes passwords with Argon2 (the rest of the suite uses a fast hasher)."""

import pytest
from django.contrib.auth.hashers import get_hashers

from egov import settings as egov_settings
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_settings_hash_with_argon2_first() -> None:
    assert egov_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_a_password_set_under_the_production_hashers_is_argon2_and_checks(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = egov_settings.PASSWORD_HASHERS
    assert get_hashers()[0].algorithm == "argon2"
    user = UserFactory()
    user.set_password("a-Long-passw0rd-2026")
    user.save()
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password("a-Long-passw0rd-2026")
    assert not user.check_password("a-wrong-passw0rd")
