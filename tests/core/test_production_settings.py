"""Outside the demo the configuration fails closed: a missing secret or address stops the
process at start with one message naming every variable, secrets can come from files, and
only the demo has defaults on its loopback ports (ADR 0009)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from egov.env import ENV, Environment, render_env_example

ROOT = Path(__file__).resolve().parents[2]
SETUP = "import django; django.setup()"
SHOW = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(repr((s.SECRET_KEY, s.DATABASES['default']['NAME'], s.PORTAL_BASE_URL, "
    "s.EXCHANGE_GATEWAY_URL, s.EMAIL_PORT, s.EMAIL_HOST_PASSWORD, s.BACKUP_PASSPHRASE)))"
)
PRODUCTION = {
    "SECRET_KEY": "a-long-random-production-secret-" + "k" * 40,
    "EGOV_BASE_URL": "https://egov.example",
    "EGOV_EXCHANGE_GATEWAY_URL": "https://127.0.0.1:8090",
    "EGOV_PKI_KEY_PASSPHRASE": "test-pki-key-passphrase",
}


def clean_environment(data: Path, **extra: str) -> dict[str, str]:
    """The machine's environment without any egov setting: what a fresh host gives."""
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH"}
    environment = {name: value for name, value in os.environ.items() if name in keep}
    environment.update(DJANGO_SETTINGS_MODULE="egov.settings", EGOV_DATA_DIR=str(data))
    environment.update(extra)
    return environment


def python(code: str, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_without_secret_key_and_addresses_stops_naming_every_one(tmp_path):
    done = python(SETUP, clean_environment(tmp_path))

    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    message = done.stderr[done.stderr.index("ImproperlyConfigured") :]
    for named in (
        "SECRET_KEY (or SECRET_KEY_FILE",
        "secrets.token_urlsafe(50)",
        "EGOV_BASE_URL is required",
        "EGOV_EXCHANGE_GATEWAY_URL is required",
    ):
        assert named in message, message
    # Nothing is generated in its place.
    assert not (tmp_path / "secret_key").exists()


def test_the_egov_command_says_what_is_missing_without_a_traceback(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "egov.cli", "check"],
        env=clean_environment(tmp_path, SECRET_KEY=PRODUCTION["SECRET_KEY"]),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "EGOV_BASE_URL is required" in done.stderr
    assert "SECRET_KEY" not in done.stderr  # it was given


def test_production_reads_secrets_from_files_with_the_trailing_newline_stripped(tmp_path):
    secrets = tmp_path / "credentials"
    secrets.mkdir()
    (secrets / "secret_key").write_text("from-a-file-" + "f" * 40 + "\n", encoding="utf-8")
    (secrets / "database_url").write_text(f"sqlite:///{tmp_path / 'other.sqlite3'}\n")
    (secrets / "smtp").write_text("pass word $HOME\n", encoding="utf-8")
    (secrets / "backup").write_text("correct horse battery staple\n", encoding="utf-8")
    environment = clean_environment(
        tmp_path,
        SECRET_KEY_FILE=str(secrets / "secret_key"),
        DATABASE_URL_FILE=str(secrets / "database_url"),
        EMAIL_HOST_PASSWORD_FILE=str(secrets / "smtp"),
        EGOV_BACKUP_PASSPHRASE_FILE=str(secrets / "backup"),
        EGOV_BASE_URL=PRODUCTION["EGOV_BASE_URL"],
        EGOV_EXCHANGE_GATEWAY_URL=PRODUCTION["EGOV_EXCHANGE_GATEWAY_URL"],
        EGOV_PKI_KEY_PASSPHRASE=PRODUCTION["EGOV_PKI_KEY_PASSPHRASE"],
    )

    done = python(SHOW, environment)

    assert done.returncode == 0, done.stderr[-3000:]
    assert eval(done.stdout.strip()) == (  # noqa: S307  (our own repr of a tuple of values)
        "from-a-file-" + "f" * 40,
        str(tmp_path / "other.sqlite3"),
        "https://egov.example",
        "https://127.0.0.1:8090",
        25,
        "pass word $HOME",
        "correct horse battery staple",
    )


def test_a_secret_given_twice_or_in_an_unreadable_file_stops_with_its_name(tmp_path):
    environment = clean_environment(
        tmp_path,
        **PRODUCTION,
        SECRET_KEY_FILE=str(tmp_path / "secret_key"),
        CACHE_URL_FILE=str(tmp_path / "no-such-file"),
    )
    (tmp_path / "secret_key").write_text("x" * 50, encoding="utf-8")

    done = python(SETUP, environment)

    assert done.returncode != 0
    assert "SECRET_KEY and SECRET_KEY_FILE are both set" in done.stderr
    assert f"CACHE_URL_FILE={tmp_path / 'no-such-file'}: the file cannot be read" in done.stderr


PASSWORD = "s3cr3t-pa55word"


@pytest.mark.parametrize(
    "url",
    [
        f"//egov:{PASSWORD}@db.example/egov",  # no scheme: django-environ warns with the URL
        f"postgres://egov:{PASSWORD}@db.example:99999/egov",
        f"nosuchdb://egov:{PASSWORD}@db.example/egov",
    ],
)
def test_a_database_url_egov_cannot_use_stops_without_showing_its_password(tmp_path, url):
    done = python(SETUP, clean_environment(tmp_path, **PRODUCTION, DATABASE_URL=url))

    assert done.returncode != 0
    assert "DATABASE_URL: not a URL egov can use" in done.stderr
    assert PASSWORD not in done.stderr + done.stdout


def test_a_cache_url_egov_cannot_use_stops_without_showing_its_password(tmp_path):
    environment = clean_environment(
        tmp_path, **PRODUCTION, CACHE_URL=f"redis//:{PASSWORD}@cache.example:6379/1"
    )

    done = python(SETUP, environment)

    assert done.returncode != 0
    assert "CACHE_URL: not a URL egov can use" in done.stderr
    assert PASSWORD not in done.stderr + done.stdout


def test_the_database_password_is_in_no_setting_a_debug_page_shows(tmp_path):
    """Django's debug page and settings dumps hide settings named like secrets (KEY, PASS,
    ...): DATABASE_URL is no such name, so it is no setting at all."""
    url = f"postgres://egov:{PASSWORD}@db.example:5432/egov"
    code = (
        "import django; django.setup(); from django.views.debug import "
        "SafeExceptionReporterFilter as F; print(repr(F().get_safe_settings()))"
    )

    done = python(code, clean_environment(tmp_path, **PRODUCTION, DATABASE_URL=url))

    assert done.returncode == 0, done.stderr[-3000:]
    assert "db.example" in done.stdout  # the database is shown, its password is not
    assert PASSWORD not in done.stdout


def test_the_demo_generates_its_secret_key_and_keeps_its_loopback_defaults(tmp_path):
    done = python(SHOW, clean_environment(tmp_path, EGOV_DEMO="true"))

    assert done.returncode == 0, done.stderr[-3000:]
    key, _database, base_url, gateway_url, email_port, _password, _passphrase = eval(  # noqa: S307
        done.stdout.strip()
    )
    assert key == (tmp_path / "secret_key").read_text().strip()
    assert len(key) >= 50
    assert (base_url, gateway_url, email_port) == (
        "http://127.0.0.1:8000",
        "https://127.0.0.1:8090",
        1025,
    )


def test_trusted_proxies_that_are_not_addresses_or_networks_stop_the_process(tmp_path):
    environment = clean_environment(
        tmp_path, **PRODUCTION, EGOV_TRUSTED_PROXIES="127.0.0.1,10.0.0.1/8,proxy.example"
    )

    done = python(SETUP, environment)

    assert done.returncode != 0
    assert "EGOV_TRUSTED_PROXIES: '10.0.0.1/8' is neither" in done.stderr


# --- the declarations themselves ----------------------------------------------------------


@pytest.fixture
def environment(monkeypatch) -> Environment:
    for name in ("EGOV_PROBE", "EGOV_PROBE_FILE", "EGOV_PROBE_PORT"):
        monkeypatch.delenv(name, raising=False)
    env = Environment()
    env.demo = False
    return env


def test_a_secret_file_loses_one_trailing_newline_only(environment, monkeypatch, tmp_path):
    (tmp_path / "value").write_text("  spaced value \n\n", encoding="utf-8")
    monkeypatch.setenv("EGOV_PROBE_FILE", str(tmp_path / "value"))

    assert environment.secret("EGOV_PROBE", "A probe.") == "  spaced value \n"
    assert environment.problems == []
    assert environment.declared["EGOV_PROBE_FILE"].file_of == "EGOV_PROBE"


def test_a_secret_file_that_is_not_text_is_named_without_its_bytes(
    environment, monkeypatch, tmp_path
):
    (tmp_path / "value").write_bytes(b"pass\xe9word\n")
    monkeypatch.setenv("EGOV_PROBE_FILE", str(tmp_path / "value"))

    environment.secret("EGOV_PROBE", "A probe.")

    assert environment.problems == [
        f"EGOV_PROBE_FILE={tmp_path / 'value'}: the file is not UTF-8 text."
    ]


def test_an_empty_secret_file_is_a_problem_unless_empty_is_a_value(
    environment, monkeypatch, tmp_path
):
    """A credential not written yet must not become the default (the embedded database for
    DATABASE_URL, a cache in each process for CACHE_URL); an SMTP password may be none."""
    (tmp_path / "value").write_text("\n", encoding="utf-8")
    monkeypatch.setenv("EGOV_PROBE_FILE", str(tmp_path / "value"))

    assert environment.secret("EGOV_PROBE", "A probe.", default="fallback") == "fallback"
    assert environment.problems == [
        f"EGOV_PROBE_FILE={tmp_path / 'value'}: the file is empty; write EGOV_PROBE's value "
        "into it."
    ]
    environment.problems.clear()
    assert environment.secret("EGOV_PROBE", "A probe.", empty_file=True) == ""
    assert environment.problems == []


def test_production_with_an_empty_database_url_file_stops(tmp_path):
    (tmp_path / "database_url").write_text("\n", encoding="utf-8")
    (tmp_path / "smtp").write_text("\n", encoding="utf-8")
    environment = clean_environment(
        tmp_path,
        **PRODUCTION,
        DATABASE_URL_FILE=str(tmp_path / "database_url"),
        EMAIL_HOST_PASSWORD_FILE=str(tmp_path / "smtp"),
    )

    done = python(SETUP, environment)

    assert done.returncode != 0
    assert f"DATABASE_URL_FILE={tmp_path / 'database_url'}: the file is empty" in done.stderr
    assert "EMAIL_HOST_PASSWORD_FILE" not in done.stderr


def test_problems_are_reported_together_in_one_message(environment, monkeypatch, tmp_path):
    monkeypatch.setenv("EGOV_PROBE_FILE", str(tmp_path))  # a folder: cannot be read as a file
    environment.secret("EGOV_PROBE", "A probe.", required=True)
    environment.str("EGOV_PROBE_URL", "", "Where.", demo="http://127.0.0.1:1", required=True)

    with pytest.raises(ImproperlyConfigured) as raised:
        environment.check()

    message = str(raised.value)
    assert f"EGOV_PROBE_FILE={tmp_path}: the file cannot be read" in message
    assert "EGOV_PROBE (or EGOV_PROBE_FILE, the path of a file holding it) is required" in message
    assert "EGOV_PROBE_URL is required: Where." in message


def test_demo_defaults_apply_only_in_the_demo(environment):
    assert environment.int("EGOV_PROBE_PORT", 25, "Port.", demo=1025) == 25
    environment.demo = True
    assert environment.int("EGOV_PROBE_PORT", 25, "Port.", demo=1025) == 1025
    environment.str("EGOV_PROBE", "", "Needed.", demo="x", required=True)
    assert environment.problems == []


def test_a_demo_default_read_before_the_mode_is_known_is_a_programming_error():
    with pytest.raises(RuntimeError):
        Environment().str("EGOV_PROBE", "", "Needed.", demo="x")


def test_the_configuration_page_lists_the_file_form_of_every_secret():
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    secrets = [v.name for v in ENV.declared.values() if v.kind == "secret"]

    assert set(secrets) >= {
        "SECRET_KEY",
        "DATABASE_URL",
        "CACHE_URL",
        "EMAIL_HOST_PASSWORD",
        "EGOV_BACKUP_PASSPHRASE",
    }
    for name in secrets:
        assert f"| `{name}_FILE` | path |" in page


def test_the_example_environment_file_matches_the_declared_variables():
    shipped = (ROOT / "deploy" / "egov.env.example").read_text(encoding="utf-8")
    assert shipped == render_env_example(ENV.declared), "run `make config-docs`"


def test_the_example_environment_file_sets_production_values_and_no_secret():
    lines = (ROOT / "deploy" / "egov.env.example").read_text(encoding="utf-8").splitlines()
    assigned = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    commented = {match[1] for line in lines if (match := re.match(r"# ([A-Z][A-Z0-9_]*)=", line))}

    for required in (v.name for v in ENV.declared.values() if v.required and v.kind != "secret"):
        assert required in assigned
    assert assigned["EGOV_TRUSTED_PROXIES"] == "127.0.0.1"
    assert "ALLOWED_HOSTS" in assigned
    secret_names = {v.name for v in ENV.declared.values() if v.kind == "secret" or v.file_of}
    assert secret_names & set(assigned) == set()
    # Every variable is in it, set or commented out.
    assert set(ENV.declared) == set(assigned) | commented
