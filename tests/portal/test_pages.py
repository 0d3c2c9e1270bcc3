import re
from decimal import Decimal

import pytest
from django.test import override_settings

from egov.catalog.models import Agency, Category, LifeEvent, Service
from tests.factories import UserFactory, current_code, totp_device

pytestmark = pytest.mark.django_db
LANGUAGES = ["be", "ru", "en"]


def public_paths():
    service = Service.objects.filter(is_published=True).first()
    return [
        "/",
        "/services/",
        "/services/?audience=businesses",
        f"/services/{service.code}/",
        "/search/?q=паспорт",
        "/search/",
        "/life-events/",
        f"/life-events/{LifeEvent.objects.first().slug}/",
        f"/categories/{Category.objects.first().slug}/",
        "/agencies/",
        f"/agencies/{Agency.objects.first().code}/",
        "/accessibility/",
        "/privacy/",
        "/cookies/",
        "/account/login/",
        "/account/register/",
        "/account/password-reset/",
    ]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_public_page_opens_in_every_language(client, language):
    for path in public_paths():
        response = client.get(f"/{language}{path}")
        assert response.status_code == 200, path
        body = response.content.decode()
        assert f'<html lang="{language}"' in body, path
        # the switcher links to the same page in the two other languages
        for other in LANGUAGES:
            assert f'hreflang="{other}"' in body, path


def test_root_redirects_to_a_language(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 302
    assert response["Location"] == "/ru/"


def test_service_page_tells_everything_before_applying(client):
    service = Service.objects.filter(fee_base_units__gt=0, is_published=True).first()
    body = client.get(f"/en/services/{service.code}/").content.decode()
    assert service.name_en in body
    assert service.agency.name_en in body
    expected = (service.fee_base_units * Decimal("45.00")).quantize(Decimal("0.01"))
    assert f"{expected} BYN" in body
    assert "working day" in body or "On the day you apply" in body
    for document in service.document_list[:2]:
        assert document.replace("'", "&#x27;").replace('"', "&quot;") in body


def test_fee_is_in_the_local_number_format(client):
    service = (
        Service.objects.filter(fee_base_units=Decimal("0.5")).first()
        or Service.objects.filter(fee_base_units__gt=0).first()
    )
    body = client.get(f"/ru/services/{service.code}/").content.decode()
    amount = (service.fee_base_units * Decimal("45.00")).quantize(Decimal("0.01"))
    assert f"{amount}".replace(".", ",") in body


def test_unknown_pages_get_a_translated_404(client):
    for language, words in [("en", "Page not found"), ("ru", "Страница не найдена")]:
        response = client.get(f"/{language}/services/NO-SUCH-SERVICE/")
        assert response.status_code == 404
        assert words in response.content.decode()


def test_unpublished_service_is_hidden_from_citizens(client):
    service = Service.objects.first()
    service.is_published = False
    service.save()
    assert client.get(f"/en/services/{service.code}/").status_code == 404
    client.force_login(UserFactory())
    assert client.get(f"/en/services/{service.code}/").status_code == 404


def test_long_and_odd_search_queries_never_fail(client):
    for query in ["x" * 10000, "<script>alert(1)</script>", "%00", "' OR 1=1 --", "🙂" * 50]:
        response = client.get("/en/search/", {"q": query})
        assert response.status_code == 200
        assert "<script>alert(1)</script>" not in response.content.decode()
    long = client.get("/en/search/", {"q": "паспорт " * 100}).content.decode()
    assert "only its first 200 characters were used" in long


def test_empty_search_says_what_to_do(client):
    body = client.get("/en/search/", {"q": "   "}).content.decode()
    assert "Enter the name of a service" in body


def test_demo_panel_only_in_demo_mode(client):
    with override_settings(DEMO_MODE=False):
        assert "citizen@demo.egov.example" not in client.get("/en/").content.decode()
    with override_settings(DEMO_MODE=True):
        body = client.get("/en/").content.decode()
        assert "citizen@demo.egov.example" in body
        assert "clerk.mvd@demo.egov.example" in body


def _substantial_service():
    service = Service.objects.filter(
        required_assurance="substantial", maturity__in=["online", "full", "proactive"]
    ).first()
    assert service is not None
    return service


def test_substantial_service_asks_for_the_second_factor_before_it_opens(client):
    service = _substantial_service()
    start = f"/en/services/{service.code}/start/"
    assert client.get(start)["Location"].startswith("/en/account/login/")
    citizen = UserFactory()
    device = totp_device(citizen)
    client.force_login(citizen)
    response = client.get(start)
    assert response["Location"] == f"/en/account/verify/?next={start.replace('/', '%2F')}"
    response = client.post(response["Location"], {"token": current_code(device)})
    assert response["Location"] == start
    page = client.get(start)
    assert page.status_code == 200
    assert citizen.personal_number in page.content.decode()


def test_substantial_service_sends_a_citizen_without_app_to_set_one_up(client):
    service = _substantial_service()
    client.force_login(UserFactory())
    start = f"/en/services/{service.code}/start/"
    response = client.get(client.get(start)["Location"])
    assert response["Location"].startswith("/en/account/two-factor/?next=")


def test_account_lists_only_own_representations(client):
    from egov.identity.models import User

    business = User.objects.get(email="business@demo.egov.example")
    client.force_login(business)
    body = client.get("/en/my-account/").content.decode()
    assert "192541238" in body
    client.force_login(UserFactory())
    assert "192541238" not in client.get("/en/my-account/").content.decode()


def test_security_headers(client):
    response = client.get("/en/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert re.search(r"script-src 'self'(;|$)", csp)  # no inline script at all
    assert "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_high_assurance_service_explains_what_is_needed_instead_of_looping(client):
    service = Service.objects.filter(
        required_assurance="high", maturity__in=["online", "full", "proactive"]
    ).first()
    citizen = UserFactory()
    device = totp_device(citizen)
    client.force_login(citizen)
    client.post("/en/account/verify/", {"token": current_code(device)})
    assert client.session["egov_loa"] == "substantial"
    response = client.get(f"/en/services/{service.code}/start/")
    assert response.status_code == 403
    assert "electronic digital signature" in response.content.decode()
