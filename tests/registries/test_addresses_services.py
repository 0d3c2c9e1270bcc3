import pytest

from egov.registries.addresses.models import Address

from .conftest import ADDRESSES, gateway_headers

pytestmark = [pytest.mark.urls("egov.registries.urls"), pytest.mark.django_db]
BASE = "/registries/addresses/v1/addresses"


@pytest.fixture
def headers() -> dict[str, str]:
    return gateway_headers(ADDRESSES)


def test_address_by_id(client, demo_people, headers):
    address = Address.objects.get(text_ru="220004, г. Минск, ул. Максима Танка, д. 36, кв. 58")
    response = client.get(f"{BASE}/{address.pk}", **headers)
    assert response.status_code == 200
    assert response.json() == {
        "id": address.pk,
        "postal_code": "220004",
        "locality": "г. Минск",
        "street": "ул. Максима Танка",
        "house": "36",
        "flat": "58",
        "text": {
            "be": "220004, г. Мінск, вул. Максіма Танка, д. 36, кв. 58",
            "ru": "220004, г. Минск, ул. Максима Танка, д. 36, кв. 58",
        },
    }


def test_address_search_matches_every_word_in_either_language(client, demo_people, headers):
    response = client.get(BASE, {"q": "Максіма Танка 36"}, **headers)
    assert response.status_code == 200
    assert [item["house"] for item in response.json()["addresses"]] == ["36"]
    assert client.get(BASE, {"q": "Кульман 11"}, **headers).json()["addresses"][0]["flat"] == "4"


def test_address_errors(client, headers):
    assert client.get(f"{BASE}/abc", **headers).json()["code"] == "invalid_identifier"
    assert client.get(f"{BASE}/999999999", **headers).json()["code"] == "not_found"
    assert client.get(BASE, {"q": "ab"}, **headers).json()["code"] == "invalid_parameter"
    assert client.get(f"{BASE}/1").json()["code"] == "gateway_required"
