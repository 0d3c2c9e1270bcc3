"""Bring an empty database to a past release with that release's rows in it, migrate it to
this code's head, and print (JSON) what the current code reads from it.

    DATABASE_URL=... EGOV_DATA_DIR=... python tests/data/releases/migrate_release.py 0.9.0

Run by tests/core/test_upgrade.py in its own process, on a database of its own. The rows are
loaded with the historical models of the release's migration state (not the current models,
whose fields may differ), as the release's own code wrote them.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def release_rows(version: str) -> list[dict[str, Any]]:
    return list(json.loads(gzip.decompress((HERE / version / "rows.json.gz").read_bytes())))


def release_migrations(version: str) -> dict[str, list[str]]:
    data = json.loads((HERE / version / "migrations.json").read_text(encoding="utf-8"))
    return dict(data["applied"])


def _load(rows: list[dict[str, Any]], apps: Any) -> dict[str, int]:
    """Insert every row with the historical model of its table; primary keys, foreign keys
    and timestamps as the release wrote them (constraints are checked at commit)."""
    by_model: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_model[row["model"]].append(row)
    counts: dict[str, int] = {}
    many: list[tuple[Any, Any, dict[str, Any]]] = []
    for label, model_rows in by_model.items():
        model = apps.get_model(label)
        for model_field in model._meta.concrete_fields:
            # Timestamps are data here: auto_now would replace them with the loading time.
            model_field.auto_now = model_field.auto_now_add = False
        objects = []
        for row in model_rows:
            instance = model()
            for model_field in model._meta.concrete_fields:
                if model_field.primary_key:
                    setattr(instance, model_field.attname, model_field.to_python(row["pk"]))
                elif model_field.name in row["fields"]:
                    value = row["fields"][model_field.name]
                    if not model_field.is_relation:
                        value = model_field.to_python(value)
                    setattr(instance, model_field.attname, value)
            objects.append(instance)
            for relation in model._meta.many_to_many:
                if relation.remote_field.through._meta.auto_created and row["fields"].get(
                    relation.name
                ):
                    many.append((instance, relation, row))
        model.objects.bulk_create(objects, batch_size=500)
        counts[label] = len(objects)
    for instance, relation, row in many:
        getattr(instance, relation.name).set(row["fields"][relation.name])
    return counts


def main(version: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "egov.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.db.migrations.executor import MigrationExecutor
    from django.db.migrations.recorder import MigrationRecorder

    applied = release_migrations(version)
    executor = MigrationExecutor(connection)
    # The release's leaf per app: exactly its migrations, none of this code's newer ones.
    targets = [(app, names[-1]) for app, names in applied.items()]
    executor.migrate(targets)
    state_applied = sorted(
        f"{app}.{name}" for app, name in MigrationRecorder(connection).applied_migrations()
    )
    executor.loader.build_graph()
    historical = executor.loader.project_state(targets).apps
    with transaction.atomic():
        loaded = _load(release_rows(version), historical)
    if connection.vendor == "postgresql":
        models = [historical.get_model(label) for label in loaded]
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(statement)

    call_command("migrate", interactive=False, verbosity=0)
    print(json.dumps({"state_applied": state_applied, "loaded": loaded, **_current(connection)}))


def _current(connection: Any) -> dict[str, Any]:
    """What this release's code reads from (and writes to) the upgraded database."""
    from django.db.migrations.executor import MigrationExecutor

    from egov.cases.models import Application
    from egov.cases.selectors import applications_of, case_of, cases_of
    from egov.cases.services import internal_note_add
    from egov.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD
    from egov.exchange.central.models import Member
    from egov.identity.models import User, UserKind
    from egov.registries.population.models import Person

    executor = MigrationExecutor(connection)
    unapplied = executor.migration_plan(executor.loader.graph.leaf_nodes())
    users = list(User.objects.order_by("pk"))
    applicants = [user for user in users if Application.objects.filter(applicant=user).exists()]
    officials = [user for user in users if user.kind == UserKind.OFFICIAL]
    official = next(user for user in officials if cases_of(actor=user).exists())
    case = cases_of(actor=official).order_by("number").first()
    assert case is not None
    note = internal_note_add(actor=official, application_id=case.pk, note="after the upgrade")
    newcomer = User.objects.create_user("upgrade.newcomer@example.org", None, kind="business")
    return {
        "unapplied": [str(migration) for migration, _ in unapplied],
        "users": [user.email for user in users],
        # The release's password hashes still let its demo accounts in (later releases add
        # accounts the release did not have).
        "password_ok": sorted(
            user.email
            for user in User.objects.filter(email__in=[a.email for a in DEMO_ACCOUNTS])
            if user.check_password(DEMO_PASSWORD)
        ),
        "applications": dict(Application.objects.values_list("number", "state")),
        "by_applicant": {
            user.email: sorted(applications_of(actor=user).values_list("number", flat=True))
            for user in applicants
        },
        "cases_by_official": {
            user.email: sorted(cases_of(actor=user).values_list("number", flat=True))
            for user in officials
        },
        "case_opened": getattr(case_of(actor=official, number=case.number), "number", None),
        "note": {"application": note.application.number, "author": note.author.email},
        "newcomer_pk": newcomer.pk,
        "persons": sorted(Person.objects.values_list("personal_number", flat=True)),
        "members": sorted(Member.objects.values_list("member_code", flat=True)),
    }


if __name__ == "__main__":
    main(sys.argv[1])
