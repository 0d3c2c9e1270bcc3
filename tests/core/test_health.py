"""Health checks of the web processes and the worker (ADR 0009, docs/health-checks.md):
liveness touches nothing, readiness says which check failed and never answers 500."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from egov.core import health
from egov.core.models import WorkerHeartbeat
from tests.factories import UserFactory, login


@pytest.fixture(autouse=True)
def _migrations_judged_afresh():
    health.migrations_cache_clear()
    health.readiness_cache_clear()
    yield
    health.migrations_cache_clear()
    health.readiness_cache_clear()


def _no_store(response) -> None:  # type: ignore[no-untyped-def]
    assert "no-store" in response["Cache-Control"]


# --- liveness -------------------------------------------------------------------------------


def test_liveness_answers_without_the_database(client):
    """No ``django_db`` mark: any query here would fail the test."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    _no_store(response)


@pytest.mark.django_db
def test_liveness_and_readiness_skip_the_https_redirect(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/en/").status_code == 301  # the rest of the portal is redirected


def test_liveness_answers_only_get_and_head(client):
    assert client.head("/healthz").status_code == 200
    assert client.delete("/healthz").status_code == 405


# --- readiness of the portal ----------------------------------------------------------------


@pytest.mark.django_db
def test_the_portal_is_ready_with_every_check_named(client):
    WorkerHeartbeat.objects.create(
        worker_id="w-1", host="h", pid=1, started_at=timezone.now(), seen_at=timezone.now()
    )
    response = client.get("/readyz")
    assert response.status_code == 200
    _no_store(response)
    body = response.json()
    assert body["status"] == "ready"
    assert list(body["checks"]) == ["database", "migrations", "cache", "static_files", "workers"]
    assert all(check["ok"] is True for check in body["checks"].values())
    assert body["checks"]["migrations"]["pending"] == 0
    assert body["checks"]["static_files"] == {"ok": True, "manifest": False}
    workers = body["checks"]["workers"]
    assert workers["workers_alive"] == 1
    assert 0 <= workers["newest_heartbeat_age_seconds"] < 30
    assert "warning" not in workers
    assert body["warnings"] == []


@pytest.mark.django_db
def test_no_worker_is_a_warning_not_a_failure(client, settings):
    settings.WORKER_STALE_SECONDS = 60
    WorkerHeartbeat.objects.create(
        worker_id="quiet",
        host="h",
        pid=1,
        started_at=timezone.now() - timedelta(hours=1),
        seen_at=timezone.now() - timedelta(seconds=600),
    )
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    workers = body["checks"]["workers"]
    assert workers["ok"] is True
    assert workers["workers_alive"] == 0
    assert 590 < workers["newest_heartbeat_age_seconds"] < 700
    assert workers["warning"]
    assert body["warnings"] == ["workers"]


@pytest.mark.django_db
def test_a_database_that_cannot_be_opened_is_a_503_with_the_reason(client, monkeypatch):
    """The check opens a connection of its own: pointed at a database that does not exist,
    it fails, and the checks that need the database are not run."""
    monkeypatch.setitem(
        connections.settings["default"],
        "NAME",
        "/nonexistent/egov-health/db.sqlite3"
        if connection.vendor == "sqlite"
        else "egov_health_no_such_database",
    )
    response = client.get("/readyz")
    assert response.status_code == 503
    _no_store(response)
    body = response.json()
    assert body["status"] == "not_ready"
    assert body["checks"]["database"] == {"ok": False, "reason": "OperationalError"}
    assert body["checks"]["migrations"]["ok"] is False
    assert body["checks"]["workers"]["ok"] is False
    assert body["checks"]["cache"] == {"ok": True}
    assert "egov-health" not in response.content.decode()  # no error text, no paths


def test_a_database_that_hangs_fails_in_time_and_probes_do_not_pile_up(monkeypatch):
    release = threading.Event()

    class HangingConnection:
        def cursor(self):  # type: ignore[no-untyped-def]
            release.wait(10)
            raise RuntimeError("gone")

        def close(self) -> None:
            return None

    monkeypatch.setattr(health, "connection", HangingConnection())
    try:
        first = health.database_check(timeout=0.2)
        second = health.database_check(timeout=0.2)
    finally:
        release.set()
    assert first == {"ok": False, "reason": "no answer within 0.2 seconds"}
    assert second == {
        "ok": False,
        "reason": "an earlier check is still waiting for the database",
    }
    for _ in range(50):  # the hung check ends once the database answers
        if health._database_busy.acquire(timeout=0.1):
            health._database_busy.release()
            break
    else:
        raise AssertionError("the database check never let go")


@pytest.mark.django_db(transaction=True)
def test_probes_share_one_answer_so_readiness_cannot_load_the_database(client, monkeypatch):
    """/readyz needs no login: however often and however many at once ask it, one process
    runs its checks (a database connection of its own, queries) at most once a second, and
    probes that arrive while they run wait for that answer instead of failing."""
    runs = []
    database_check, needs_database = health.CHECKS["database"]

    def counted() -> health.Check:
        runs.append(threading.get_ident())
        time.sleep(0.3)
        return database_check()

    monkeypatch.setitem(health.CHECKS, "database", (counted, needs_database))
    answers: list[bool] = []

    def probe() -> None:
        answers.append(health.readiness(health.REGISTRIES_CHECKS)[0])

    probes = [threading.Thread(target=probe) for _ in range(4)]
    for thread in probes:
        thread.start()
    for thread in probes:
        thread.join(timeout=20)
    assert answers == [True] * 4
    for _ in range(5):
        assert client.get("/readyz").status_code == 200
    assert len(runs) == 2  # the registries' checks once, the portal's once
    monkeypatch.setattr(health, "READINESS_CACHE_SECONDS", 0.0)
    assert client.get("/readyz").status_code == 200
    assert len(runs) == 3


@pytest.mark.django_db
def test_unapplied_migrations_make_the_portal_not_ready(client):
    latest = MigrationRecorder.Migration.objects.filter(app="core").order_by("-id").first()
    assert latest is not None
    latest.delete()
    response = client.get("/readyz")
    assert response.status_code == 503
    migrations = response.json()["checks"]["migrations"]
    assert migrations["ok"] is False
    assert migrations["pending"] >= 1
    assert response.json()["checks"]["database"]["ok"] is True


@pytest.mark.django_db
def test_a_positive_migrations_answer_is_remembered(client):
    assert client.get("/readyz").status_code == 200
    MigrationRecorder.Migration.objects.filter(app="core").delete()
    # Remembered: the migration graph is not built again on every probe.
    assert client.get("/readyz").json()["checks"]["migrations"] == {"ok": True, "pending": 0}
    health.migrations_cache_clear()
    health.readiness_cache_clear()  # the next probe, once the last answer is over a second old
    assert client.get("/readyz").status_code == 503


@pytest.mark.django_db
def test_a_cache_that_fails_is_a_503(client, monkeypatch):
    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise ConnectionError("redis at 10.0.0.7:6379 refused")

    monkeypatch.setattr(health.cache, "set", broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == {"ok": False, "reason": "ConnectionError"}
    assert "10.0.0.7" not in response.content.decode()


@pytest.mark.django_db
def test_a_cache_that_forgets_is_a_503(client, monkeypatch):
    monkeypatch.setattr(health.cache, "get", lambda *args, **kwargs: None)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"]["ok"] is False


@pytest.fixture
def manifest_storage(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.STATIC_ROOT = str(tmp_path)
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    return tmp_path


def _write_manifest(folder) -> None:  # type: ignore[no-untyped-def]
    (folder / "staticfiles.json").write_text(
        json.dumps({"version": "1.1", "paths": {"app.css": "app.0123456789ab.css"}})
    )


@pytest.mark.django_db
def test_static_files_without_collectstatic_are_a_503(client, manifest_storage):
    response = client.get("/readyz")
    assert response.status_code == 503
    static = response.json()["checks"]["static_files"]
    assert static == {
        "ok": False,
        "manifest": True,
        "reason": "staticfiles.json missing: egov collectstatic",
    }


@pytest.mark.django_db
def test_a_process_started_before_collectstatic_is_not_ready(client, manifest_storage, settings):
    from django.contrib.staticfiles.storage import staticfiles_storage

    assert staticfiles_storage.hashed_files == {}  # loaded now, before collectstatic
    _write_manifest(manifest_storage)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "restart" in response.json()["checks"]["static_files"]["reason"]
    settings.STORAGES = {**settings.STORAGES}  # a new process: the storage is set up again
    health.readiness_cache_clear()
    response = client.get("/readyz")
    assert response.json()["checks"]["static_files"] == {"ok": True, "manifest": True, "files": 1}


@pytest.mark.django_db
def test_a_check_that_breaks_is_a_failed_check_never_a_500(client, monkeypatch):
    def broken() -> dict:
        raise ZeroDivisionError

    monkeypatch.setitem(health.CHECKS, "workers", (broken, True))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["workers"] == {"ok": False, "reason": "ZeroDivisionError"}


@pytest.mark.django_db
def test_readiness_needs_no_login_and_tells_nothing_about_a_signed_in_person(client):
    user = UserFactory()
    login(client, user)
    response = client.get("/readyz")
    assert response.status_code == 200
    text = response.content.decode()
    for personal in (user.personal_number, user.email, user.last_name):
        assert personal not in text


# --- the registries' web process ------------------------------------------------------------


@pytest.fixture
def registries_process(settings):  # type: ignore[no-untyped-def]
    """The registries' URLs (``EGOV_ROOT_URLCONF=egov.registries.urls``)."""
    settings.ROOT_URLCONF = "egov.registries.urls"


def test_the_registries_liveness_answers_without_the_gateway_key(client, registries_process):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    _no_store(response)


@pytest.mark.django_db
def test_the_registries_readiness_checks_the_database_and_migrations_only(
    client, registries_process
):
    response = client.get("/readyz")
    assert response.status_code == 200
    _no_store(response)
    body = response.json()
    assert body["status"] == "ready"
    assert list(body["checks"]) == ["database", "migrations"]


@pytest.mark.django_db
def test_the_registries_readiness_is_a_503_without_migrations(client, registries_process):
    MigrationRecorder.Migration.objects.filter(app="registry_population").delete()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"]["ok"] is False


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/healthz/",
        "/readyz/",
        "/healthz/x",
        "/registries/population/v1/healthz",
        "/registries/population/v1/persons/4150592M012PB5",
    ],
)
def test_nothing_else_of_the_registries_answers_without_the_key(client, registries_process, path):
    response = client.get(path)
    assert response.status_code in (403, 404)
    assert response["Content-Type"] == "application/problem+json"


def test_the_registries_health_answers_only_get_as_problem_json(client, registries_process):
    response = client.post("/healthz")
    assert response.status_code == 405
    assert response["Content-Type"] == "application/problem+json"
    assert response["Allow"] == "GET, HEAD"


# --- the worker -----------------------------------------------------------------------------


def _beat(worker_id: str, age_seconds: float) -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.create(
        worker_id=worker_id,
        host="h",
        pid=1,
        started_at=now - timedelta(hours=1),
        seen_at=now - timedelta(seconds=age_seconds),
    )


def _health_worker(capsys, *args: str) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
    code = 0
    try:
        call_command("health", "worker", *args)
    except SystemExit as exit:
        code = int(exit.code or 0)
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.django_db
def test_health_worker_fails_without_any_worker(capsys, settings):
    settings.WORKER_STALE_SECONDS = 60
    code, answer = _health_worker(capsys)
    assert code == 1
    assert answer == {
        "check": "worker",
        "max_age_seconds": 60.0,
        "ok": False,
        "workers_alive": 0,
        "newest_heartbeat_age_seconds": None,
    }


@pytest.mark.django_db
def test_health_worker_judges_the_newest_heartbeat_by_the_max_age(capsys, settings):
    settings.WORKER_STALE_SECONDS = 60
    _beat("old", 120)
    code, answer = _health_worker(capsys)
    assert code == 1
    assert answer["workers_alive"] == 0
    assert 119 < answer["newest_heartbeat_age_seconds"] < 180
    code, answer = _health_worker(capsys, "--max-age", "300")
    assert (code, answer["ok"], answer["workers_alive"]) == (0, True, 1)
    _beat("fresh", 1)
    code, answer = _health_worker(capsys)
    assert (code, answer["workers_alive"]) == (0, 1)
    assert answer["newest_heartbeat_age_seconds"] < 30


@pytest.mark.django_db
def test_health_worker_with_an_id_looks_at_that_worker_only(capsys, settings):
    settings.WORKER_STALE_SECONDS = 60
    _beat("fresh", 1)
    _beat("old", 120)
    code, answer = _health_worker(capsys, "--worker-id", "old")
    assert (code, answer["worker_id"], answer["workers_alive"]) == (1, "old", 0)
    code, answer = _health_worker(capsys, "--worker-id", "fresh")
    assert (code, answer["workers_alive"]) == (0, 1)
    code, answer = _health_worker(capsys, "--worker-id", "never-started")
    assert (code, answer["newest_heartbeat_age_seconds"]) == (1, None)
