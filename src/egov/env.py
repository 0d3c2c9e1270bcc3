"""Every environment variable egov reads, declared once with its help text.

Settings read configuration only through :data:`ENV`; ``docs/configuration.md`` is generated
from the same declarations (``egov config-docs``), and a test keeps the two in step.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Any

import environ


@dataclass(frozen=True)
class Variable:
    name: str
    kind: str
    default: Any
    help: builtins.str


class Environment:
    """Typed access to environment variables with a registry of what is read."""

    def __init__(self) -> None:
        self._env = environ.Env()
        self.declared: dict[str, Variable] = {}

    def _declare(
        self, name: builtins.str, kind: builtins.str, default: Any, help: builtins.str
    ) -> None:
        self.declared[name] = Variable(name, kind, default, help)

    def str(self, name: builtins.str, default: builtins.str, help: builtins.str) -> builtins.str:
        self._declare(name, "string", default, help)
        return str(self._env.str(name, default=default))

    def bool(self, name: builtins.str, default: builtins.bool, help: builtins.str) -> builtins.bool:
        self._declare(name, "boolean", default, help)
        return bool(self._env.bool(name, default=default))

    def int(self, name: builtins.str, default: builtins.int, help: builtins.str) -> builtins.int:
        self._declare(name, "integer", default, help)
        return int(self._env.int(name, default=default))

    def list(
        self, name: builtins.str, default: builtins.list[builtins.str], help: builtins.str
    ) -> builtins.list[builtins.str]:
        self._declare(name, "comma-separated list", ",".join(default), help)
        return list(self._env.list(name, default=default))


ENV = Environment()


def render_markdown(variables: dict[str, Variable]) -> str:
    """The configuration reference page, from the declarations."""
    lines = [
        "# Configuration",
        "",
        "egov reads its configuration from environment variables only. Each one is declared",
        "once in `src/egov/settings.py` with the help text below; this page is generated from",
        "those declarations by `egov config-docs > docs/configuration.md`, and a test fails when",
        "the two disagree.",
        "",
        "| variable | type | default | meaning |",
        "|---|---|---|---|",
    ]
    for variable in sorted(variables.values(), key=lambda v: v.name):
        default = "" if variable.default in ("", None) else f"`{variable.default}`"
        lines.append(f"| `{variable.name}` | {variable.kind} | {default} | {variable.help} |")
    return "\n".join(lines) + "\n"
