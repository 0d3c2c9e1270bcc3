"""The platform's logs are JSON lines in production, with identifiers only."""

from __future__ import annotations

import json
import logging
import logging.config
from uuid import UUID

import pytest

from egov.core.logging import security_event
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
def test_the_front_request_id_is_kept_beside_egov_own_only_in_nginx_shape(json_logs, client):
    client.get("/healthz", HTTP_X_REQUEST_ID="0123456789abcdef0123456789abcdef")
    client.get("/healthz", HTTP_X_REQUEST_ID="4010190H001PB7 injected")

    lines = [line for line in json_lines(json_logs.getvalue()) if "request_id" in line]
    assert [line.get("edge_request_id") for line in lines] == [
        "0123456789abcdef0123456789abcdef",
        None,
    ]
    assert all(UUID(str(line["request_id"])).version == 4 for line in lines)
    assert "injected" not in json_logs.getvalue()
