"""The gateway runs without Django (ADR 0007): none of its modules loads it, so no ORM."""

from __future__ import annotations

import json
import os
import subprocess
import sys

MODULES = (
    "access",
    "clientproxy",
    "conf",
    "errors",
    "messagelog",
    "messages",
    "metaservices",
    "rest",
    "server",
    "serverproxy",
)


def test_no_gateway_module_loads_django() -> None:
    code = (
        "import importlib, json, sys\n"
        f"for name in {MODULES!r}:\n"
        "    importlib.import_module('egov.exchange.gateway.' + name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'django')))\n"
    )
    environment = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}

    done = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True
    )

    assert json.loads(done.stdout) == []
