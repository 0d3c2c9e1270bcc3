"""The platform's structured logging: one structlog configuration for egov's own loggers and
for the standard-library loggers of Django, axes and gunicorn.

Production writes one JSON object per line (what a log collector reads); the demo and
``DEBUG`` write readable console lines. Events carry identifiers only (user id, application
number, request id), never names, personal numbers, email addresses or passwords.
"""

from __future__ import annotations

import logging
from typing import Any

import structlog

SECURITY_LOGGER = "egov.security"
#: One line per request when ``EGOV_ACCESS_LOG`` is on: the web servers' (egov.core.access_log)
#: and the gateways'.
ACCESS_LOGGER = "egov.access"

# Processors that run for egov's structlog events and for foreign (stdlib) records alike.
SHARED_PROCESSORS: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def security_event(event: str, **ids: Any) -> None:
    """Record a security event (a lockout, a refused signature, a second factor added) on the
    ``egov.security`` logger, so operators can route and alert on them apart from the rest.

    Pass identifiers only (``user_id=``, ``client=``, ``message_id=``): the line is kept as
    long as the logs are, and personal data does not belong in it."""
    structlog.get_logger(SECURITY_LOGGER).warning(event, **ids)


class OneLineWarning(logging.Filter):
    """Turns a record into one warning line without its traceback: a request for a host name
    the deployment does not serve is a client's mistake (or a scan), not a server error."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


def logging_config(
    *, json: bool, level: str, server_level: str = "WARNING", access_log: bool = False
) -> dict[str, Any]:
    """The ``LOGGING`` dictionary: every standard-library record, Django's, axes' and
    gunicorn's included, is rendered by structlog's ProcessorFormatter, so one deployment
    writes one format. ``server_level`` is the servers' own loggers' (gunicorn, aiohttp);
    ``access_log`` keeps the access lines (``egov.access``)."""
    server_level = server_level.upper()
    access_level = "INFO" if access_log else "WARNING"
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structlog": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    renderer,
                ],
                "foreign_pre_chain": [
                    *SHARED_PROCESSORS,
                    # Django's request records carry the request object, whose text
                    # includes the query string: only the status code is kept.
                    structlog.stdlib.ExtraAdder(allow=["status_code"]),
                ],
            }
        },
        "filters": {"one_line_warning": {"()": OneLineWarning}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structlog"}},
        "root": {"handlers": ["console"], "level": "WARNING"},
        "loggers": {
            "egov": {"level": level},
            # Security events are always kept, whatever the level of the rest.
            SECURITY_LOGGER: {"level": "INFO"},
            "django_structlog": {"level": "INFO"},
            # 4xx answers are in django_structlog's request line; errors stay.
            "django.request": {"level": "ERROR"},
            # Django logs an unknown Host header as an error with a traceback.
            "django.security.DisallowedHost": {"level": "WARNING", "filters": ["one_line_warning"]},
            # A wrong password is not an operational event worth a warning per attempt.
            "axes": {"level": "ERROR"},
            # The worker writes one line per task run itself (task_finished, task_failed);
            # django-tasks would add its own, with the task's traceback (kept in its result).
            "django_tasks": {"level": "CRITICAL"},
            ACCESS_LOGGER: {"level": access_level},
            "gunicorn.error": {"level": server_level, "handlers": ["console"], "propagate": False},
            # gunicorn's access line names the client's address, user agent and query
            # string: egov.core.server's logger class writes an egov.access line instead.
            "gunicorn.access": {"level": "WARNING", "handlers": ["console"], "propagate": False},
            "aiohttp": {"level": server_level},
            "aiohttp.access": {"level": access_level},
        },
    }


def configure_structlog() -> None:
    """Send structlog events through the standard library, where ``LOGGING`` renders them.
    Called once from the settings module, before Django configures ``LOGGING``."""
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *SHARED_PROCESSORS,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.UnicodeDecoder(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
