import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from egov.env import ENV, render_markdown

ROOT = Path(__file__).resolve().parents[2]


def test_configuration_page_matches_the_declared_variables():
    documented = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert documented == render_markdown(ENV.declared), "run `make config-docs`"


def _production_env(tmp_path: Path) -> dict[str, str]:
    keep = {"PATH", "HOME", "LANG", "DATABASE_URL"}
    env = {key: value for key, value in os.environ.items() if key in keep}
    env.update(
        SECRET_KEY="a-long-random-production-secret-" + "k" * 40,
        ALLOWED_HOSTS="portal.egov.example",
        EGOV_BASE_URL="https://portal.egov.example",
        EGOV_EXCHANGE_GATEWAY_URL="https://127.0.0.1:8090",
        EGOV_PKI_KEY_PASSPHRASE="test-pki-key-passphrase",
        EGOV_DATA_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="egov.settings",
    )
    return env


def test_production_defaults_pass_the_deploy_check(tmp_path):
    # The default static storage needs collected files (egov.E004 without them).
    subprocess.run(
        [sys.executable, "-m", "egov.cli", "collectstatic", "--noinput", "-v", "0"],
        env=_production_env(tmp_path),
        check=True,
        timeout=300,
    )
    result = subprocess.run(
        [sys.executable, "-m", "egov.cli", "check", "--deploy", "--fail-level", "WARNING"],
        env=_production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_registries_process_passes_the_checks_with_its_own_middleware(tmp_path):
    """The registries' web process serves machines only: no sessions or logins, and the
    system checks still pass."""
    env = {**_production_env(tmp_path), "EGOV_ROOT_URLCONF": "egov.registries.urls"}
    code = (
        "import django; django.setup(); from django.conf import settings as s; print(s.MIDDLEWARE)"
    )
    checked = subprocess.run(
        [sys.executable, "-m", "egov.cli", "check", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    middleware = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert middleware.stdout.strip() == str(
        [
            "egov.core.proxies.TrustedProxyMiddleware",
            "egov.core.access_log.AccessLogMiddleware",
            "django.middleware.locale.LocaleMiddleware",
            "django.middleware.common.CommonMiddleware",
        ]
    )


def test_production_defaults_are_safe(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY,"
        " s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.DEMO_MODE)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=_production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.split() == ["False", "True", "True", "True", "True", "31536000", "False"]


def test_import_boundaries_hold():
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_embedded_database_runs_in_wal_mode(tmp_path):
    env = _production_env(tmp_path)
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "-m", "egov.cli", "migrate", "-v", "0"],
        env=env,
        check=True,
        timeout=300,
    )
    database = tmp_path / "egov.sqlite3"
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert "catalog_search_fts" in tables


def test_models_and_migrations_agree(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "egov.cli", "makemigrations", "--check", "--dry-run"],
        env=_production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
