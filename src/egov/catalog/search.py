"""Full-text search of the service catalogue on either database.

PostgreSQL: tsvector/tsquery with ts_rank over the stored stems (config "simple", since the
stems are made in Python). SQLite: the FTS5 table ``catalog_search_fts`` with bm25 ranking.
A query is stemmed once per language and matched against that language's entries, so a
Russian query finds services on a Belarusian page too. All terms must match (prefix match on
each stem); when nothing does, any term may match, ranked by how many and how well.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection

from egov.catalog.models import SearchEntry
from egov.catalog.stemming import query_terms

TITLE_WEIGHT = 10.0
BODY_WEIGHT = 1.0


@dataclass(frozen=True)
class Hit:
    service_id: int
    score: float


def _languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def search_service_ids(query: str, *, limit: int = 50) -> list[int]:
    """Service ids best first. Empty for a query with no words."""
    terms_by_language = {lang: query_terms(query, lang) for lang in _languages()}
    if not any(terms_by_language.values()):
        return []
    search = _search_postgresql if connection.vendor == "postgresql" else _search_sqlite
    for operator in ("AND", "OR"):
        best: dict[int, float] = {}
        for language, terms in terms_by_language.items():
            if not terms:
                continue
            for hit in search(language, terms, operator, limit):
                best[hit.service_id] = max(best.get(hit.service_id, 0.0), hit.score)
        if best:
            ranked = sorted(best.items(), key=lambda item: (-item[1], item[0]))
            return [service_id for service_id, _score in ranked[:limit]]
    return []


def _search_sqlite(language: str, terms: list[str], operator: str, limit: int) -> list[Hit]:
    expression = f" {operator} ".join(f'"{term}"*' for term in terms)
    sql = (
        "SELECT service_id, -bm25(catalog_search_fts, 0, 0, %s, %s) AS score "
        "FROM catalog_search_fts WHERE catalog_search_fts MATCH %s AND language = %s "
        "ORDER BY score DESC LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [TITLE_WEIGHT, BODY_WEIGHT, expression, language, limit])
        return [Hit(int(row[0]), float(row[1])) for row in cursor.fetchall()]


def _search_postgresql(language: str, terms: list[str], operator: str, limit: int) -> list[Hit]:
    joiner = " & " if operator == "AND" else " | "
    query = SearchQuery(
        joiner.join(f"'{term}':*" for term in terms), search_type="raw", config="simple"
    )
    title = SearchVector("title", config="simple")
    body = SearchVector("body", config="simple")
    # Title and body are ranked apart and weighted like SQLite's bm25 columns (10 : 1), so a
    # service named after the query comes first on both databases.
    rows = (
        SearchEntry.objects.filter(language=language)
        .annotate(vector=title + body)
        .filter(vector=query)
        .annotate(
            score=SearchRank(title, query) * TITLE_WEIGHT + SearchRank(body, query) * BODY_WEIGHT
        )
        .order_by("-score")
        .values_list("service_id", "score")[:limit]
    )
    return [Hit(service_id, float(score)) for service_id, score in rows]


def index_replace(*, service_id: int, entries: dict[str, tuple[str, str]]) -> None:
    """Store a service's stemmed (title, body) per language. Call inside the write's
    transaction so the index never disagrees with the catalogue."""
    SearchEntry.objects.filter(service_id=service_id).delete()
    # On SQLite, triggers (migration 0002) mirror these rows into the FTS5 table.
    SearchEntry.objects.bulk_create(
        SearchEntry(service_id=service_id, language=language, title=title, body=body)
        for language, (title, body) in entries.items()
    )
