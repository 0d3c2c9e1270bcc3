import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from egov.catalog import selectors
from egov.catalog.models import Service
from egov.catalog.services import service_search_index_update
from egov.catalog.stemming import query_terms

pytestmark = pytest.mark.django_db


def codes(query):
    return [service.code for service in selectors.service_search(query=query)]


def names(query, language):
    return [getattr(s, f"name_{language}") for s in selectors.service_search(query=query)]


@pytest.mark.parametrize(
    ("query", "language", "word"),
    [
        ("паспорт", "ru", "аспорт"),
        ("паспорта", "ru", "аспорт"),  # another word form
        ("пашпарт", "be", "ашпарт"),
        ("пашпарта", "be", "ашпарт"),
        ("passport", "en", "assport"),
        ("passports", "en", "assport"),
        ("PASSPORT", "en", "assport"),
    ],
)
def test_passport_query_finds_passport_services_first(query, language, word):
    found = names(query, language)
    assert found, query
    assert word in found[0].lower()


def test_a_query_in_any_language_finds_the_same_service():
    # The query is matched against every language's entries, whatever the page's language.
    birth = Service.objects.get(code="200.5.1")
    for query in ("регистрация рождения", "рэгістрацыя нараджэння", "register a birth"):
        assert codes(query)[0] == birth.code, query


def test_title_matches_rank_above_body_matches():
    results = selectors.service_search(query="паспорт")
    in_title = ["паспорт" in s.name_ru.lower() for s in results]
    # every title match comes before every body-only match
    assert in_title == sorted(in_title, reverse=True)


def test_all_words_must_match_before_any_word_may():
    both = codes("регистрация жительства")
    assert both
    for code in both[:3]:
        service = Service.objects.get(code=code)
        text = " ".join([service.name_ru, service.description_ru, service.summary_ru]).lower()
        assert "регистрац" in text and "жительств" in text


def test_unpublished_services_are_not_found_by_the_public():
    service = Service.objects.filter(name_en__icontains="passport").first()
    service.is_published = False
    service.save()
    assert service.code not in codes(service.name_en)


def test_index_follows_edits():
    service = Service.objects.first()
    service.name_en = "Zyxwvut registration"
    service.save()
    service_search_index_update(service=service)
    assert codes("zyxwvut") == [service.code]


@pytest.mark.parametrize(
    "query",
    ['"', "'", "*", "AND OR NOT", "NEAR(", "-паспорт", "^", "%", "\\", "::", "a" * 5000, ""],
)
def test_hostile_queries_are_harmless(query):
    found = codes(query)
    assert len(found) == len(set(found))
    assert set(found) <= set(Service.objects.values_list("code", flat=True))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=300))
def test_any_text_is_a_valid_query(query):
    results = selectors.service_search(query=query)
    assert all(isinstance(service, Service) for service in results)


def test_query_terms_are_limited():
    assert len(query_terms(" ".join(f"слово{i}" for i in range(100)), "ru")) == 12
