import pytest

from egov.catalog.models import Service
from egov.catalog.services import service_search_index_update
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _service():
    return Service.objects.filter(is_published=True).order_by("code").first()


def test_anonymous_pages_are_cached_until_the_catalogue_changes(
    client, django_capture_on_commit_callbacks
):
    service = _service()
    url = f"/en/services/{service.code}/"
    assert service.name_en in client.get(url).content.decode()

    Service.objects.filter(pk=service.pk).update(name_en="Renamed behind the cache's back")
    assert service.name_en in client.get(url).content.decode()  # served from the cache

    service.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        service_search_index_update(service=service)
    assert "Renamed behind the cache" in client.get(url).content.decode()


def test_logged_in_people_never_get_a_cached_page(client):
    url = f"/en/services/{_service().code}/"
    client.get(url)  # cached for anonymous visitors
    client.force_login(UserFactory(first_name="Цімох"))
    body = client.get(url).content.decode()
    assert "Log out" in body


def test_a_message_is_shown_even_on_a_cached_page(client):
    client.get("/en/")  # cached
    client.force_login(UserFactory())
    response = client.post("/en/account/logout/", follow=True)
    assert "You have logged out." in response.content.decode()


def test_each_language_has_its_own_copy(client):
    service = _service()
    assert service.name_be in client.get(f"/be/services/{service.code}/").content.decode()
    assert service.name_ru in client.get(f"/ru/services/{service.code}/").content.decode()


def test_admin_edit_reaches_the_public_page_at_once(client, django_capture_on_commit_callbacks):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    service = _service()
    url = f"/en/services/{service.code}/"
    anonymous = client.__class__()
    anonymous.get(url)
    admin = UserFactory(kind="admin", personal_number=None, is_superuser=True)
    device = TOTPDevice.objects.create(user=admin, name="app", confirmed=True)
    client.force_login(admin)
    from django_otp import DEVICE_ID_SESSION_KEY

    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    change = f"/en/admin/catalog/service/{service.pk}/change/"
    form = client.get(change).context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None:
            continue
        if hasattr(value, "__iter__") and not isinstance(value, str):
            data[name] = [getattr(item, "pk", item) for item in value]
        else:
            data[name] = getattr(value, "pk", value)
    data["name_en"] = "Edited in the admin"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(change, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert "Edited in the admin" in anonymous.get(url).content.decode()


def test_a_shared_redis_cache_can_be_configured(tmp_path):
    """Production runs several processes; CACHE_URL=redis://... makes them share the cache."""
    import os
    import socket
    import subprocess
    import sys

    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 6379)) != 0:
            pytest.skip("no Redis on 127.0.0.1:6379")
    code = (
        "import django; django.setup(); from django.core.cache import cache; "
        "cache.set('egov-probe', 42); print(cache.get('egov-probe')); cache.delete('egov-probe')"
    )
    env = {
        **os.environ,
        "CACHE_URL": "redis://127.0.0.1:6379/9",
        "EGOV_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "egov.settings",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "42", result.stderr


def test_unknown_query_parameters_are_rendered_not_cached(client):
    from django.core.cache import cache

    def cached_pages() -> int:
        return sum(":pagecache:catalogue:" in key for key in cache._cache)  # type: ignore[attr-defined]

    client.get("/en/services/")
    before = cached_pages()
    for number in range(20):
        assert client.get(f"/en/services/?junk={number}").status_code == 200
    assert cached_pages() == before
    client.get("/en/services/?audience=businesses")
    assert cached_pages() == before + 1


def test_head_requests_are_answered(client):
    response = client.head("/en/")
    assert response.status_code == 200
    assert response.content == b""


def test_personal_pages_are_never_stored_by_browsers_or_proxies(client):
    client.force_login(UserFactory())
    response = client.get("/en/my-account/")
    assert "no-store" in response["Cache-Control"]


def test_service_lists_follow_edits_for_logged_in_people_too(
    client, django_capture_on_commit_callbacks
):
    client.force_login(UserFactory())
    service = _service()
    assert service.name_en in client.get("/en/services/").content.decode()
    service.name_en = "Listed under a new name"
    service.save()
    with django_capture_on_commit_callbacks(execute=True):
        service_search_index_update(service=service)
    assert "Listed under a new name" in client.get("/en/services/").content.decode()
