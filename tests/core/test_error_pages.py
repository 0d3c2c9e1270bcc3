import pytest
from django.test import RequestFactory
from django.utils import translation

from egov.core import views
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "title"),
    [
        ("en", "Sorry, there is a problem with the service"),
        ("ru", "Извините"),
        ("be", "Прабачце"),
    ],
)
def test_server_error_page_speaks_the_visitor_language(language, title):
    request = RequestFactory().get(f"/{language}/")
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.sessions.backends.db import SessionStore

    request.user = AnonymousUser()
    request.session = SessionStore()
    with translation.override(language):
        response = views.server_error(request)
    assert response.status_code == 500
    assert title in response.content.decode()


def test_forbidden_page_is_translated(client):
    client.force_login(UserFactory())
    response = client.get("/ru/office/")
    assert response.status_code == 403
    assert "У вас нет доступа к этой странице" in response.content.decode()


def test_expired_form_gets_a_clear_page(client):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/en/account/login/", {"username": "a@b.example", "password": "x"})
    assert response.status_code == 403
    assert "The form has expired" in response.content.decode()
    assert "Nothing was changed" in response.content.decode()


def test_invalid_unp_cannot_be_stored_for_a_representation():
    from django.core.exceptions import ValidationError

    from egov.identity.models import Representation

    user = UserFactory(kind="business")
    representation = Representation(
        user=user, unp="123456789", organisation_name="ТАА «Тэст»", basis="director"
    )
    with pytest.raises(ValidationError) as raised:
        representation.full_clean()
    assert "unp" in raised.value.message_dict
