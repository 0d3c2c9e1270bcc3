"""The platform's logs are JSON lines in production, with identifiers only."""

from __future__ import annotations

import json
import logging
import logging.config
import re
from uuid import UUID

import pytest
import structlog
from django_tasks import task

from egov.core.logging import security_event
from egov.core.worker import tasks_run_pending
from tests.factories import UserFactory, login


def json_lines(captured: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in captured.splitlines() if line.strip()]


def test_security_event_writes_one_json_line_with_the_event_and_its_ids(json_logs):
    security_event("login_locked", user_id=42, client="BY/GOV/NCES/portal")

    lines = json_lines(json_logs.getvalue())

    assert len(lines) == 1
    line = lines[0]
    assert line["event"] == "login_locked"
    assert line["user_id"] == 42
    assert line["client"] == "BY/GOV/NCES/portal"
    assert line["logger"] == "egov.security"
    assert line["level"] == "warning"
    assert set(line) == {"event", "user_id", "client", "logger", "level", "timestamp"}


def test_standard_library_records_are_rendered_as_json_lines_too(json_logs):
    logging.getLogger("django.request").error("Internal Server Error: %s", "/be/")

    lines = json_lines(json_logs.getvalue())

    assert [(line["event"], line["logger"], line["level"]) for line in lines] == [
        ("Internal Server Error: /be/", "django.request", "error")
    ]


@pytest.mark.django_db
def test_a_request_logs_one_json_line_with_a_request_id_and_no_personal_data(json_logs, client):
    user = UserFactory()
    login(client, user)

    response = client.get(f"/en/search/?q={user.personal_number}", HTTP_USER_AGENT="Probe/1.0")

    assert response.status_code == 200
    output = json_logs.getvalue()
    finished = [line for line in json_lines(output) if line["event"] == "request_finished"]
    assert len(finished) == 1
    line = finished[0]
    assert UUID(str(line["request_id"])).version == 4
    assert line["request"] == "GET en/search/"
    assert line["view"] == "portal:search"
    assert line["code"] == 200
    assert line["user_id"] == user.pk
    assert line["logger"] == "django_structlog.middlewares.request"
    for personal in (user.personal_number, user.email, user.last_name, "Probe/1.0", "127.0.0.1"):
        assert personal not in output


@pytest.mark.django_db
def test_each_request_gets_its_own_request_id(json_logs, client):
    client.get("/en/account/password-reset/")
    client.get("/healthz")

    lines = [line for line in json_lines(json_logs.getvalue()) if "request_id" in line]
    assert [line["request"] for line in lines] == ["GET en/account/password-reset/", "GET healthz"]
    assert lines[0]["request_id"] != lines[1]["request_id"]


@pytest.mark.django_db
def test_a_reset_link_is_logged_by_its_pattern_without_its_token(json_logs, client):
    client.get("/en/account/password-reset/MQ/cabc12-0123456789abcdef0123456789abcdef/")

    (line,) = [line for line in json_lines(json_logs.getvalue()) if "request_id" in line]
    assert line["request"] == "GET en/account/password-reset/<uidb64>/<token>/"
    assert "cabc12" not in json_logs.getvalue()


@pytest.mark.django_db
def test_a_page_that_does_not_exist_is_logged_without_its_path(json_logs, client):
    assert client.get("/en/no-such-page/4010190H001PB7/").status_code == 404

    (line,) = [line for line in json_lines(json_logs.getvalue()) if "request_id" in line]
    assert (line["request"], line["code"], line["level"]) == (
        "GET (no matching page)",
        404,
        "warning",
    )
    assert "4010190H001PB7" not in json_logs.getvalue()


@pytest.mark.django_db
def test_the_front_request_id_is_kept_beside_egov_own_only_in_nginx_shape(
    json_logs, client, settings
):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]  # the test client's address: nginx on this host
    client.get("/healthz", HTTP_X_REQUEST_ID="0123456789abcdef0123456789abcdef")
    client.get("/healthz", HTTP_X_REQUEST_ID="4010190H001PB7 injected")
    # The same header from a client that reached the web server directly is not believed.
    client.get(
        "/healthz", HTTP_X_REQUEST_ID="fedcba9876543210fedcba9876543210", REMOTE_ADDR="203.0.113.9"
    )

    lines = [line for line in json_lines(json_logs.getvalue()) if "request_id" in line]
    assert [line.get("edge_request_id") for line in lines] == [
        "0123456789abcdef0123456789abcdef",
        None,
        None,
    ]
    assert all(UUID(str(line["request_id"])).version == 4 for line in lines)
    assert "injected" not in json_logs.getvalue()


def test_every_line_has_an_iso_timestamp_stdlib_and_structlog_alike(json_logs):
    security_event("login_locked", user_id=1)
    logging.getLogger("django.request").error("Internal Server Error: %s", "/be/")
    logging.getLogger("gunicorn.error").warning("Worker timeout (pid:%s)", 42)

    lines = json_lines(json_logs.getvalue())

    assert [line["logger"] for line in lines] == [
        "egov.security",
        "django.request",
        "gunicorn.error",
    ]
    for line in lines:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", str(line["timestamp"]))


def test_an_unknown_host_is_one_warning_line_without_a_traceback(json_logs, client):
    response = client.get("/healthz", HTTP_HOST="attacker.example")

    assert response.status_code == 400
    output = json_logs.getvalue()
    disallowed = [
        line for line in json_lines(output) if line["logger"] == "django.security.DisallowedHost"
    ]
    assert len(disallowed) == 1
    assert disallowed[0]["level"] == "warning"
    assert "Invalid HTTP_HOST header" in str(disallowed[0]["event"])
    assert "exception" not in disallowed[0]
    assert "Traceback" not in output


@task()
def probe_succeed(value: int) -> int:
    structlog.get_logger("egov.probe").info("probe_ran")
    return value * 2


@task()
def probe_fail() -> None:
    raise ValueError("4010190H001PB7 is not a valid value")


@pytest.mark.django_db
def test_each_task_run_is_one_line_with_its_task_id_status_and_duration(json_logs):
    succeeded = probe_succeed.enqueue(21)
    failed = probe_fail.enqueue()

    assert tasks_run_pending() == 2

    lines = json_lines(json_logs.getvalue())
    ran = [line for line in lines if line["event"] == "probe_ran"]
    ends = [line for line in lines if line["event"] in ("task_finished", "task_failed")]
    assert [line["task_id"] for line in ran] == [str(succeeded.id)]
    assert [(line["event"], line["task_id"], line["status"], line["level"]) for line in ends] == [
        ("task_finished", str(succeeded.id), "SUCCESSFUL", "info"),
        ("task_failed", str(failed.id), "FAILED", "error"),
    ]
    assert ends[0]["task"] == "tests.core.test_logging.probe_succeed"
    assert ends[1]["exception"] == "builtins.ValueError"
    assert all(isinstance(line["duration_ms"], int) and "timestamp" in line for line in ends)
    # The failure's message (which may hold personal data) and traceback stay out of the log.
    assert "4010190H001PB7" not in json_logs.getvalue()
    assert "Traceback" not in json_logs.getvalue()


@pytest.mark.django_db
def test_the_long_running_worker_writes_the_same_line_per_task(json_logs):
    from django_tasks_db.models import DBTaskResult

    from egov.core.worker import HeartbeatWorker

    queued = probe_fail.enqueue()
    worker = HeartbeatWorker(
        queue_names=["*"],
        interval=0.1,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=1,
        worker_id="probe-worker",
        excluded_queue_names=[],
    )
    result = DBTaskResult.objects.get(id=queued.id)
    result.claim(worker.worker_id)

    worker.run_task(result)

    (line,) = [line for line in json_lines(json_logs.getvalue()) if line["event"] == "task_failed"]
    assert (line["task_id"], line["status"], line["exception"]) == (
        str(queued.id),
        "FAILED",
        "builtins.ValueError",
    )
    assert "Traceback" not in json_logs.getvalue()
