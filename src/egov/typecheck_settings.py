"""The settings mypy's Django plugin loads (``[tool.django-stubs]`` in pyproject.toml): the
demo's, so that type checking needs no deployment's secrets or addresses. Never the settings
of a process: ``egov`` and the WSGI application load :mod:`egov.settings`."""

import os

os.environ.setdefault("EGOV_DEMO", "true")

from egov.settings import *  # noqa: F403
