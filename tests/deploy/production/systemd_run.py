"""A stand-in for ``systemd-run`` on the scratch host of tests/deploy/test_production.py, so that
the shipped ``deploy/bin/egov-run`` runs unchanged: it starts the command as a transient
service would, with only the properties egov-run gives (``EnvironmentFile=``,
``LoadCredential=``, ``WorkingDirectory=``, ``UMask=``) and ``--setenv`` variables, host paths
mapped into the scratch root (``EGOV_SCRATCH_ROOT``), and waits for it (``--wait --pipe``).
Any other option fails loudly rather than being ignored.

Installed by the test as ``<scratch>/bin/systemd-run``."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from tests.deploy.production.host import (
    EGOV,
    EGOV_IN_UNITS,
    SYSTEMD_BASE_ENVIRONMENT,
    ScratchHost,
    environment_file_read,
)

FLAGS = {"--quiet", "--wait", "--collect", "--pipe", "--pty"}
IGNORED_PROPERTIES = {"User", "Group"}


def environment_expand(argument: str, environment: dict[str, str]) -> str:
    """What the service manager makes of a command's argument: ``$$`` is ``$``, ``${NAME}``
    and ``$NAME`` the unit's variable (``$NAME`` would also be split into words: an argument
    of egov-run never holds one, since it writes every ``$`` as ``$$``)."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        assert match.group(1), f"{argument!r}: $NAME would be split into words"
        return environment.get(match.group(1), "")

    return re.sub(r"\$\$|\$\{(\w+)\}|\$\w+", replace, argument)


def main(argv: list[str]) -> int:
    host = ScratchHost(Path(os.environ["EGOV_SCRATCH_ROOT"]))
    properties: list[tuple[str, str]] = []
    setenv: list[tuple[str, str]] = []
    unit = ""
    index = 0
    while index < len(argv) and argv[index].startswith("-"):
        option = argv[index]
        index += 1
        if option in FLAGS:
            continue
        name, _separator, value = option.partition("=")
        if name == "--unit":
            unit = value
        elif name == "--service-type":
            assert value == "exec", option
        elif name == "--property":
            key, _separator, setting = value.partition("=")
            properties.append((key, setting))
        elif name == "--setenv":
            key, _separator, setting = value.partition("=")
            setenv.append((key, setting))
        else:
            raise SystemExit(f"systemd-run (test stand-in): {option} is not emulated")
    command = argv[index:]
    assert unit and command, argv
    real_credentials = f"/run/credentials/{unit}.service"
    credentials = host.root / "run" / "credentials" / f"{unit}.service"
    credentials.mkdir(parents=True, mode=0o700)
    environment = dict(SYSTEMD_BASE_ENVIRONMENT, CREDENTIALS_DIRECTORY=str(credentials))
    cwd = host.root
    umask = None
    try:
        for key, setting in properties:
            if key == "EnvironmentFile":
                environment.update(environment_file_read(host.path(setting)))
            elif key == "LoadCredential":
                identifier, _separator, source = setting.partition(":")
                target = credentials / identifier
                shutil.copyfile(host.path(source), target)
                target.chmod(0o400)
            elif key == "WorkingDirectory":
                cwd = host.path(setting)
            elif key == "UMask":
                umask = int(setting, 8)
            elif key not in IGNORED_PROPERTIES:
                raise SystemExit(f"systemd-run (test stand-in): {key}= is not emulated")
        for key, setting in setenv:
            if setting.startswith(real_credentials + "/"):
                setting = str(credentials) + setting[len(real_credentials) :]
            environment[key] = host.mapped(setting)
        command = [environment_expand(argument, environment) for argument in command]
        if command[0] == EGOV_IN_UNITS:
            command = [EGOV, *command[1:]]
        return subprocess.run(
            command, env=environment, cwd=cwd, umask=-1 if umask is None else umask, check=False
        ).returncode
    finally:
        shutil.rmtree(credentials, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
