"""`egov check --deploy` fails, with errors, on a production process that runs the demo's way:
demo mode, plain HTTP, DEBUG, static files never collected, a proxy count without proxies."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

MANIFEST_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"


@pytest.fixture
def production(settings, tmp_path):  # type: ignore[no-untyped-def]
    """What a correct production process has (the tests run on plain HTTP)."""
    settings.DEMO_MODE = False
    settings.INSECURE_HTTP = False
    settings.DEBUG = False
    settings.PROXY_COUNT = 0
    settings.TRUSTED_PROXIES = []
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    return settings


def deploy_check_errors() -> str:
    try:
        call_command("check", "--deploy", "--tag", "security")
    except SystemCheckError as error:
        return str(error)
    return ""


def test_a_correct_production_process_passes(production):
    assert "egov.E" not in deploy_check_errors()


@pytest.mark.parametrize(
    ("setting", "value", "error_id"),
    [
        ("DEMO_MODE", True, "egov.E001"),
        ("INSECURE_HTTP", True, "egov.E002"),
        ("DEBUG", True, "egov.E003"),
        ("PROXY_COUNT", 1, "egov.E005"),
    ],
)
def test_the_demo_way_of_running_is_an_error(production, setting, value, error_id):
    setattr(production, setting, value)

    errors = deploy_check_errors()

    assert f"({error_id})" in errors
    assert "ERRORS:" in errors


def test_the_proxy_count_with_its_proxies_passes(production):
    production.PROXY_COUNT = 1
    production.TRUSTED_PROXIES = ["127.0.0.1"]

    assert "egov.E005" not in deploy_check_errors()


def test_the_manifest_storage_without_collected_files_is_an_error(production):
    production.STORAGES = {**production.STORAGES, "staticfiles": {"BACKEND": MANIFEST_STORAGE}}

    missing = deploy_check_errors()
    (production.STATIC_ROOT).mkdir()
    (production.STATIC_ROOT / "staticfiles.json").write_text(
        '{"paths": {}, "version": "1.1", "hash": ""}', encoding="utf-8"
    )
    collected = deploy_check_errors()

    assert "(egov.E004)" in missing
    assert "staticfiles.json is missing" in missing
    assert "egov.E004" not in collected


def test_a_removed_variable_still_set_is_an_error_naming_what_replaced_it(production, monkeypatch):
    monkeypatch.setenv("EGOV_EXCHANGE_SERVICE_KEY", "a-key-the-registries-never-read")
    errors = deploy_check_errors()
    assert "egov.E006" in errors
    assert "EGOV_EXCHANGE_SERVICE_KEY" in errors
    assert "EGOV_EXCHANGE_PROVIDER_KEYS_DIR" in errors
    assert "a-key-the-registries-never-read" not in errors  # the value is never shown


def test_an_unknown_egov_variable_is_a_warning_and_a_declared_one_is_not():
    from egov.core.checks import environment_check

    messages = environment_check(
        {"EGOV_BASE_URL": "https://egov.example", "EGOV_BASE_ULR": "typo", "PATH": "/bin"}
    )
    assert [(message.id, message.level) for message in messages] == [("egov.W001", 30)]
    assert "EGOV_BASE_ULR" in messages[0].msg
    # The file form of a secret and egov-run's own variables are known.
    assert (
        environment_check({"SECRET_KEY_FILE": "/run/x", "EGOV_BACKUP_PASSPHRASE_FILE": "/x"}) == []
    )
    assert environment_check({"EGOV_ENVIRONMENT_FILE": "/etc/egov/egov.env"}) == []
