import pytest

from egov.catalog.models import Agency, BaseUnit, Category, LifeEvent, Service
from egov.demo.seed import demo_seed
from egov.identity.models import User

pytestmark = pytest.mark.django_db

TRANSLATED = ["name", "summary", "description", "who_can_apply", "documents", "result"]


def test_demo_country_is_big_enough():
    assert Agency.objects.count() >= 8
    assert LifeEvent.objects.count() >= 8
    assert Category.objects.count() >= 8
    assert Service.objects.filter(is_published=True).count() >= 25
    assert BaseUnit.objects.get(valid_from="2026-01-01").amount == 45


def test_every_service_speaks_three_languages():
    for service in Service.objects.all():
        for field in TRANSLATED:
            for language in ("be", "ru", "en"):
                assert getattr(service, f"{field}_{language}").strip(), (
                    service.code,
                    field,
                    language,
                )


def test_every_life_event_leads_somewhere():
    for event in LifeEvent.objects.all():
        assert event.services.count() >= 2, event.slug


def test_demo_accounts_exist_for_every_role():
    assert User.objects.filter(kind="citizen", email="citizen@demo.egov.example").exists()
    assert User.objects.get(email="business@demo.egov.example").representations.count() == 2
    officials = User.objects.filter(kind="official")
    assert {(o.agency.code, o.official_role) for o in officials} >= {
        ("MVD", "clerk"),
        ("MVD", "decision_maker"),
        ("MINTRUDA", "clerk"),
        ("MINTRUDA", "decision_maker"),
    }
    assert User.objects.filter(kind="admin").exists()


def test_seeding_again_changes_nothing():
    before = (Service.objects.count(), Agency.objects.count(), User.objects.count())
    citizen = User.objects.get(email="citizen@demo.egov.example")
    citizen.set_password("changed-Password-1")
    citizen.save()
    counts = demo_seed()
    assert counts["accounts_created"] == 0
    assert (Service.objects.count(), Agency.objects.count(), User.objects.count()) == before
    citizen.refresh_from_db()
    assert citizen.check_password("changed-Password-1")
