"""The platform's logs are JSON lines in production, with identifiers only."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Iterator

import pytest
from django.conf import settings

from egov.core.logging import logging_config, security_event


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """The production configuration, its console handler writing to a buffer."""
    config = logging_config(json=True, level="INFO")
    stream = io.StringIO()
    config["handlers"]["console"]["stream"] = stream
    logging.config.dictConfig(config)
    yield stream
    logging.config.dictConfig(settings.LOGGING)


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
