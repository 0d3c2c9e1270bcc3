"""egov's build backend: setuptools, refusing to build a wheel or an sdist without the built
front end.

``src/egov/static/egov/dist/`` is built by ``npm run build`` (``make frontend``) and is not in
git. A release is installed without Node.js (docs/deployment.md), so a wheel or an sdist
without it would serve pages whose stylesheet is missing: the build stops instead. Editable
installs (``make install``) and metadata (``pip-compile``) do not need it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403  (every other PEP 517/660 hook, unchanged)

#: What ``npm run build`` writes (frontend/build.mjs) and every page links to.
FRONT_END = ("app.css", "govuk-frontend.min.js", "init.js")
DIST = Path("src") / "egov" / "static" / "egov" / "dist"


class FrontEndMissing(RuntimeError):
    pass


def _require_front_end() -> None:
    missing = [name for name in FRONT_END if not (DIST / name).is_file()]
    if missing:
        raise FrontEndMissing(
            f"{DIST}/ lacks {', '.join(missing)}: build the front end first "
            "(`make frontend`, or `npm ci && npm run build`), or use `make wheel`"
        )


def build_wheel(
    wheel_directory: str,
    config_settings: dict[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    _require_front_end()
    return str(_setuptools.build_wheel(wheel_directory, config_settings, metadata_directory))


def build_sdist(sdist_directory: str, config_settings: dict[str, Any] | None = None) -> str:
    _require_front_end()
    return str(_setuptools.build_sdist(sdist_directory, config_settings))
