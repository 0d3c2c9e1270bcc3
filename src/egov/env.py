"""Every environment variable egov reads, declared once with its help text.

Settings read configuration only through :data:`ENV`; ``docs/configuration.md`` and
``deploy/egov.env.example`` are generated from the same declarations (``egov config-docs``,
``egov config-docs --env``), and tests keep them in step.

Outside the demo (``EGOV_DEMO`` not true) a required variable that is missing, or a secret given
twice or in a file that cannot be read, is a problem; the settings module ends with
:meth:`Environment.check`, which stops the process with one message naming every problem.
"""

from __future__ import annotations

import builtins
import os
import textwrap
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import environ
from django.core.exceptions import ImproperlyConfigured

T = TypeVar("T")


class _Unset:
    def __repr__(self) -> builtins.str:
        return "<unset>"


#: No demo default: the demo uses the production default.
UNSET: Any = _Unset()

#: The suffix of a secret's file form: ``SECRET_KEY_FILE`` names a file holding ``SECRET_KEY``.
FILE_SUFFIX = "_FILE"


@dataclass(frozen=True)
class Variable:
    name: builtins.str
    kind: builtins.str
    default: Any
    help: builtins.str
    #: The default in the demo, when it differs from the production one.
    demo: Any = UNSET
    #: Required outside the demo: the process stops without it.
    required: builtins.bool = False
    #: The value a production deployment sets, shown uncommented in the example environment
    #: file; ``None`` shows the variable commented out with its default.
    example: builtins.str | None = None
    #: For ``NAME_FILE``: the secret ``NAME`` it holds.
    file_of: builtins.str = ""

    @property
    def is_file_form(self) -> builtins.bool:
        return bool(self.file_of)


class Environment:
    """Typed access to environment variables with a registry of what is read."""

    def __init__(self) -> None:
        self._env = environ.Env()
        self.declared: dict[str, Variable] = {}
        #: Whether this is the demo; set by the settings module before any demo default is read.
        self.demo: builtins.bool | None = None
        #: What is wrong with the configuration, one sentence each (see :meth:`check`).
        self.problems: builtins.list[builtins.str] = []

    def _declare(self, variable: Variable) -> None:
        self.declared[variable.name] = variable

    def _fallback(self, name: builtins.str, default: Any, demo: Any) -> Any:
        if demo is UNSET:
            return default
        if self.demo is None:
            raise RuntimeError(f"{name} has a demo default but ENV.demo is not set yet")
        return demo if self.demo else default

    def _required(self, variable: Variable, value: Any) -> None:
        if variable.required and not self.demo and value in ("", None, []):
            forms = (
                f"{variable.name} (or {variable.name}{FILE_SUFFIX}, the path of a file holding it)"
            )
            self.problems.append(
                f"{forms if variable.kind == 'secret' else variable.name} is required: "
                f"{variable.help}"
            )

    def _read(
        self,
        name: builtins.str,
        kind: builtins.str,
        default: T,
        help: builtins.str,
        demo: Any,
        required: builtins.bool,
        example: builtins.str | None,
        reader: Callable[[builtins.str, Any], T],
        shown_default: Any = None,
    ) -> T:
        variable = Variable(
            name,
            kind,
            default if shown_default is None else shown_default,
            help,
            demo=demo,
            required=required,
            example=example,
        )
        self._declare(variable)
        value = reader(name, self._fallback(name, default, demo))
        self._required(variable, value)
        return value

    def str(
        self,
        name: builtins.str,
        default: builtins.str,
        help: builtins.str,
        *,
        demo: Any = UNSET,
        required: builtins.bool = False,
        example: builtins.str | None = None,
    ) -> builtins.str:
        return self._read(
            name,
            "string",
            default,
            help,
            demo,
            required,
            example,
            lambda n, d: builtins.str(self._env.str(n, default=d)),
        )

    def bool(
        self,
        name: builtins.str,
        default: builtins.bool,
        help: builtins.str,
        *,
        example: builtins.str | None = None,
    ) -> builtins.bool:
        return self._read(
            name,
            "boolean",
            default,
            help,
            UNSET,
            False,
            example,
            lambda n, d: builtins.bool(self._env.bool(n, default=d)),
        )

    def int(
        self,
        name: builtins.str,
        default: builtins.int,
        help: builtins.str,
        *,
        demo: Any = UNSET,
        example: builtins.str | None = None,
    ) -> builtins.int:
        return self._read(
            name,
            "integer",
            default,
            help,
            demo,
            False,
            example,
            lambda n, d: builtins.int(self._env.int(n, default=d)),
        )

    def list(
        self,
        name: builtins.str,
        default: builtins.list[builtins.str],
        help: builtins.str,
        *,
        example: builtins.str | None = None,
    ) -> builtins.list[builtins.str]:
        return self._read(
            name,
            "comma-separated list",
            default,
            help,
            UNSET,
            False,
            example,
            lambda n, d: builtins.list(self._env.list(n, default=d)),
            shown_default=",".join(default),
        )

    def secret(
        self,
        name: builtins.str,
        help: builtins.str,
        *,
        default: builtins.str = "",
        required: builtins.bool = False,
        example: builtins.str | None = None,
        empty_file: builtins.bool = False,
    ) -> builtins.str:
        """A secret, given either as ``NAME`` or as ``NAME_FILE``: the path of a file holding it
        (one trailing newline stripped), as systemd's ``LoadCredential=`` (``%d/...``) and
        container platforms' secrets provide it. Both at once is an error, and so is an empty
        file unless ``empty_file`` says that empty is a value (a credential not written yet
        must not turn into a default, such as the embedded database for ``DATABASE_URL``).

        Values are read as they are: no ``$VAR`` expansion, which would change a password that
        begins with ``$``. No problem quotes a value, nor any part of it."""
        file_name = name + FILE_SUFFIX
        variable = Variable(name, "secret", default, help, required=required, example=example)
        self._declare(variable)
        self._declare(
            Variable(
                file_name,
                "path",
                "",
                f"Path of a file holding `{name}` (trailing newline stripped), instead of "
                f"`{name}` itself: a systemd credential (`LoadCredential=`, `%d/...`) or a "
                "container secret. Not together with it.",
                file_of=name,
            )
        )
        given = os.environ.get(name, "")
        path = os.environ.get(file_name, "")
        value = given
        if given and path:
            self.problems.append(
                f"{name} and {file_name} are both set: give the value in one of them only."
            )
        elif path:
            try:
                value = Path(path).read_text(encoding="utf-8")
            except UnicodeDecodeError:
                # Not the decoder's message: it quotes the bytes it stopped at.
                self.problems.append(f"{file_name}={path}: the file is not UTF-8 text.")
                value = ""
            except OSError as error:
                reason = error.strerror or type(error).__name__
                self.problems.append(f"{file_name}={path}: the file cannot be read ({reason}).")
                value = ""
            else:
                value = value.removesuffix("\n").removesuffix("\r")
                if not value and not empty_file:
                    self.problems.append(
                        f"{file_name}={path}: the file is empty; write {name}'s value into it."
                    )
        if not value:
            value = default
        self._required(variable, value)
        return value

    def url_config(
        self,
        name: builtins.str,
        url: builtins.str,
        parse: Callable[[builtins.str], dict[builtins.str, Any]],
        fallback: dict[builtins.str, Any],
    ) -> dict[builtins.str, Any]:
        """The secret URL of ``name`` parsed by django-environ (``Env.db_url_config``,
        ``Env.cache_url_config``), whose errors and warnings quote the URL, password included:
        one it cannot use is a problem that names the variable only, and ``fallback`` stands
        in until :meth:`check` stops the process."""
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            try:
                config = parse(url)
            except Exception:
                config = {}
        engine = config.get("ENGINE", config.get("BACKEND", ""))
        if "." in builtins.str(engine):
            return config
        self.problems.append(
            f"{name}: not a URL egov can use (scheme://USER:PASSWORD@HOST:PORT/NAME, as "
            "docs/configuration.md describes it); its value is not shown since it holds a "
            "password."
        )
        return dict(fallback)

    def invalid(self, name: builtins.str, message: builtins.str) -> None:
        """Record that ``name`` holds a value that cannot be used (``message`` says why)."""
        self.problems.append(f"{name}: {message}")

    def check(self) -> None:
        """Stop with one message naming every problem found while the settings were read."""
        if not self.problems:
            return
        mode = "production" if not self.demo else "the demo"
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        raise ImproperlyConfigured(
            f"egov's configuration is incomplete for {mode} (EGOV_DEMO is "
            f"{'true' if self.demo else 'not true'}):\n{lines}\n"
            "Every variable is described in docs/configuration.md; deploy/egov.env.example "
            "is an example environment file."
        )


ENV = Environment()


def _default_cell(variable: Variable) -> builtins.str:
    parts = []
    if variable.required:
        parts.append("required")
    elif variable.default not in ("", None):
        parts.append(f"`{variable.default}`")
    if variable.demo is not UNSET:
        parts.append(f"demo: `{variable.demo}`")
    return "; ".join(parts)


def render_markdown(variables: dict[str, Variable]) -> builtins.str:
    """The configuration reference page, from the declarations."""
    lines = [
        "# Configuration",
        "",
        "egov reads its configuration from environment variables only. Each one is declared",
        "once in `src/egov/settings.py` with the help text below; this page is generated from",
        "those declarations by `egov config-docs > docs/configuration.md`, and a test fails when",
        "the two disagree. `deploy/egov.env.example` (`egov config-docs --env`) is an example",
        "environment file generated from the same declarations.",
        "",
        "Without `EGOV_DEMO=true` egov runs as a production process: a *required* variable that",
        "is missing stops it at start with a message naming the variable, and no address has a",
        "demo port as its default. Every *secret* can be given as `<NAME>_FILE` instead, the path",
        "of a file holding the value.",
        "",
        "| variable | type | default | meaning |",
        "|---|---|---|---|",
    ]
    for variable in sorted(variables.values(), key=lambda v: v.name):
        lines.append(
            f"| `{variable.name}` | {variable.kind} | {_default_cell(variable)} | {variable.help} |"
        )
    return "\n".join(lines) + "\n"


ENV_EXAMPLE_HEADER = """\
# egov's environment: an example generated from the declared settings by
# `egov config-docs --env` (docs/configuration.md describes the same variables), for
# /etc/egov/egov.env, the environment file of every egov process.
#
# The lines that are not commented out are what a production deployment sets: replace
# their example values. Every other variable is shown commented out with its default.
# Secrets do not belong in this file: give each as <NAME>_FILE, the path of a file holding
# it. The systemd units (deploy/systemd/) set those paths themselves (`%d/...`, from
# `LoadCredential=`), and a value here would override theirs, so they stay commented out.
"""


def _wrapped_comment(text: builtins.str) -> builtins.list[builtins.str]:
    return textwrap.wrap(
        text, width=95, initial_indent="# ", subsequent_indent="# ", break_on_hyphens=False
    )


def render_env_example(variables: dict[str, Variable]) -> builtins.str:
    """An example environment file: every variable with its help, the production ones set."""
    blocks = [ENV_EXAMPLE_HEADER]
    for variable in sorted(variables.values(), key=lambda v: v.name):
        lines = [f"# {variable.name} ({variable.kind}{'; required' if variable.required else ''})"]
        lines += _wrapped_comment(variable.help)
        if variable.is_file_form:
            lines.append(f"# {variable.name}=/run/credentials/<unit>/{variable.file_of.lower()}")
        elif variable.example is not None and variable.kind != "secret":
            lines.append(f"{variable.name}={variable.example}")
        elif variable.example is not None:
            lines.append(f"# {variable.name}={variable.example}")
        else:
            default = "" if variable.default is None else variable.default
            lines.append(f"# {variable.name}={default}")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)
