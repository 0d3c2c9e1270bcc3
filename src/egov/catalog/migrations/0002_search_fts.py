"""SQLite only: the FTS5 table that mirrors catalog_searchentry, kept in step by triggers.
PostgreSQL searches catalog_searchentry directly with tsvector/tsquery."""

from django.db import migrations

SQLITE_CREATE = [
    "CREATE VIRTUAL TABLE catalog_search_fts USING fts5("
    " service_id UNINDEXED, language UNINDEXED, title, body,"
    " tokenize = 'unicode61 remove_diacritics 0')",
    "CREATE TRIGGER catalog_searchentry_ai AFTER INSERT ON catalog_searchentry BEGIN"
    " INSERT INTO catalog_search_fts(rowid, service_id, language, title, body)"
    " VALUES (new.id, new.service_id, new.language, new.title, new.body); END",
    "CREATE TRIGGER catalog_searchentry_ad AFTER DELETE ON catalog_searchentry BEGIN"
    " DELETE FROM catalog_search_fts WHERE rowid = old.id; END",
    "CREATE TRIGGER catalog_searchentry_au AFTER UPDATE ON catalog_searchentry BEGIN"
    " DELETE FROM catalog_search_fts WHERE rowid = old.id;"
    " INSERT INTO catalog_search_fts(rowid, service_id, language, title, body)"
    " VALUES (new.id, new.service_id, new.language, new.title, new.body); END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS catalog_searchentry_au",
    "DROP TRIGGER IF EXISTS catalog_searchentry_ad",
    "DROP TRIGGER IF EXISTS catalog_searchentry_ai",
    "DROP TABLE IF EXISTS catalog_search_fts",
]


def _run(statements):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor != "sqlite":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return operation


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(_run(SQLITE_CREATE), _run(SQLITE_DROP))]
