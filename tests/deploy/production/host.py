"""A scratch host for tests/deploy/test_production.py: the folders of docs/deployment.md under
one temporary root, and the systemd units of deploy/systemd/ turned into the command line and
environment systemd would start each one with.

A unit is read as systemd reads it (sections, repeated keys, continuation lines); only what
decides the process is applied: ``ExecStart=``, ``Environment=``, ``EnvironmentFile=``,
``LoadCredential=`` (a private copy of each credential, ``%d``), ``WorkingDirectory=`` and
``UMask=``. Absolute paths of the host layout (``/etc/egov``, ``/var/lib/egov``,
``/srv/egov``) are mapped into the scratch root, and ``/srv/egov/venv/bin/egov`` is this
virtualenv's ``egov``. Anything a unit uses that this emulation does not know fails the test
instead of being skipped silently.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[3]
UNITS = REPOSITORY / "deploy" / "systemd"
EGOV_IN_UNITS = "/srv/egov/venv/bin/egov"
EGOV = str(Path(sys.executable).parent / "egov")
#: The host layout of docs/deployment.md, mapped into the scratch root.
HOST_FOLDERS = ("/etc/egov", "/var/lib/egov", "/srv/egov", "/run/egov", "/var/log/egov")
#: What systemd gives every service before Environment= and EnvironmentFile=.
SYSTEMD_BASE_ENVIRONMENT = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
}


@dataclass
class Unit:
    name: str
    entries: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def values(self, section: str, key: str) -> list[str]:
        return [value for name, value in self.entries.get(section, []) if name == key]

    def value(self, section: str, key: str, default: str = "") -> str:
        values = self.values(section, key)
        return values[-1] if values else default


def unit_read(path: Path) -> Unit:
    """A unit file as systemd parses it: ``[Section]``, ``Key=Value`` (repeatable), ``#`` and
    ``;`` comments, a trailing backslash continues the line."""
    unit = Unit(path.name)
    section = ""
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = pending + raw.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            unit.entries.setdefault(section, [])
            continue
        key, separator, value = line.partition("=")
        assert separator, f"{path.name}: not a Key=Value line: {line!r}"
        unit.entries.setdefault(section, []).append((key.strip(), value.strip()))
    return unit


def environment_file_read(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines as systemd's EnvironmentFile= reads them (comments, blank lines and
    a pair of surrounding quotes)."""
    values: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("export "):
            line = line[len("export ") :]
        key, separator, value = line.partition("=")
        assert separator, f"{path}: not a KEY=VALUE line: {line!r}"
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


@dataclass(frozen=True)
class Service:
    """One process as systemd would start it from its unit."""

    unit: str
    argv: list[str]
    environment: dict[str, str]
    cwd: Path
    umask: int | None


class ScratchHost:
    """The host layout of docs/deployment.md under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, absolute: str) -> Path:
        """``/etc/egov/egov.env`` → ``<root>/etc/egov/egov.env``; other paths unchanged."""
        if any(absolute == folder or absolute.startswith(folder + "/") for folder in HOST_FOLDERS):
            return self.root / absolute.lstrip("/")
        return Path(absolute)

    def mapped(self, value: str) -> str:
        """A value with every host-layout path in it mapped into the scratch root."""
        pattern = "|".join(re.escape(folder) for folder in HOST_FOLDERS)
        return re.sub(
            rf"(?<![\w/])({pattern})(?=/|$|\s|:)",
            lambda match: str(self.root / match.group(1).lstrip("/")),
            value,
        )

    def service(self, unit_file: str, *, instance: str = "") -> Service:
        unit = unit_read(UNITS / unit_file)
        name = unit_file.replace("@.", f"@{instance}.") if instance else unit_file
        assert ("@" in unit_file) == bool(instance), f"{unit_file}: instance {instance!r}"
        credentials = self.root / "run" / "credentials" / name
        if credentials.exists():
            shutil.rmtree(credentials)
        credentials.mkdir(parents=True, mode=0o700)

        def expand(text: str) -> str:
            return specifiers_expand(
                text, instance=instance, unit=name, credentials=str(credentials)
            )

        for entry in unit.values("Service", "LoadCredential"):
            identifier, separator, source = expand(entry).partition(":")
            assert separator, f"{unit_file}: LoadCredential={entry} names no file"
            path = self.path(source)
            assert path.is_file(), (
                f"{unit_file}: LoadCredential={entry}: {source} does not exist on the host, "
                "so systemd would not start the unit"
            )
            target = credentials / identifier
            shutil.copyfile(path, target)
            target.chmod(0o400)
        unknown = {key for key, _value in unit.entries.get("Service", [])} & {
            "SetCredential",
            "LoadCredentialEncrypted",
            "ImportCredential",
            "ExecStartPre",
            "RuntimeDirectory",
            "StateDirectory",
        }
        assert not unknown, f"{unit_file}: {sorted(unknown)} are not emulated by this test"

        environment = dict(SYSTEMD_BASE_ENVIRONMENT)
        environment["CREDENTIALS_DIRECTORY"] = str(credentials)
        for entry in unit.values("Service", "Environment"):
            for assignment in shlex.split(expand(entry)):
                key, separator, value = assignment.partition("=")
                assert separator, f"{unit_file}: Environment={entry}"
                environment[key] = self.mapped(value)
        # systemd: settings from EnvironmentFile= override those of Environment=.
        for entry in unit.values("Service", "EnvironmentFile"):
            optional = entry.startswith("-")
            path = self.path(expand(entry.lstrip("-")))
            if optional and not path.exists():
                continue
            environment.update(environment_file_read(path))

        (exec_start,) = unit.values("Service", "ExecStart") or [""]
        argv = shlex.split(expand(exec_start.lstrip("-@:+!")))
        assert argv and argv[0] == EGOV_IN_UNITS, (
            f"{unit_file}: ExecStart= is not an egov command line: {exec_start!r}"
        )
        argv = [EGOV, *(self.mapped(argument) for argument in argv[1:])]
        working = unit.value("Service", "WorkingDirectory")
        cwd = self.path(expand(working.lstrip("-"))) if working else self.root
        umask = unit.value("Service", "UMask")
        return Service(name, argv, environment, cwd, int(umask, 8) if umask else None)


def specifiers_expand(text: str, *, instance: str, unit: str, credentials: str) -> str:
    """systemd's specifiers that egov's units may use; any other one fails."""
    known = {
        "i": instance,
        "I": instance,
        "n": unit,
        "N": unit.rsplit(".", 1)[0],
        "p": unit.split("@")[0].rsplit(".", 1)[0],
        "H": socket.gethostname(),
        "l": socket.gethostname().split(".")[0],
        "d": credentials,
        "%": "%",
    }

    def replace(match: re.Match[str]) -> str:
        letter = match.group(1)
        assert letter in known, f"the specifier %{letter} in {text!r} is not emulated"
        return known[letter]

    return re.sub(r"%(.)", replace, text)


def argument_replace(argv: list[str], option: str, value: str) -> list[str]:
    """``--bind 127.0.0.1:8000`` (or ``--bind=…``) with another value; the option must be
    there."""
    out = list(argv)
    for index, argument in enumerate(out):
        if argument == option:
            out[index + 1] = value
            return out
        if argument.startswith(option + "="):
            out[index] = f"{option}={value}"
            return out
    raise AssertionError(f"{option} is not in {argv}")


@dataclass
class Running:
    name: str
    process: subprocess.Popen[bytes]
    log: Path


class Processes:
    """The processes of the scratch host, each with its log file; stopped in reverse order
    of start (terminate, wait, kill on timeout)."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.logs.mkdir(parents=True, exist_ok=True)
        self.running: list[Running] = []
        self.stopped_after: dict[str, float] = {}

    def start(
        self,
        name: str,
        argv: list[str],
        *,
        environment: dict[str, str],
        cwd: Path,
        umask: int | None = None,
    ) -> Running:
        log = self.logs / f"{name}.log"
        with log.open("ab") as output:
            process = subprocess.Popen(
                argv,
                env=environment,
                cwd=cwd,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                umask=-1 if umask is None else umask,
            )
        running = Running(name, process, log)
        self.running.append(running)
        return running

    def alive(self, running: Running) -> None:
        code = running.process.poll()
        if code is not None:
            raise AssertionError(f"{running.name} exited with {code}:\n{tail(running.log)}")

    def stop_all(self, timeout: float = 30.0) -> dict[str, int | None]:
        """SIGTERM to every process (last started first), then wait for all; a process still
        running after ``timeout`` is killed. ``stopped_after`` records how long each took."""
        started = time.monotonic()
        for running in reversed(self.running):
            if running.process.poll() is None:
                running.process.terminate()
        waiting = list(self.running)
        while waiting and time.monotonic() - started < timeout:
            for running in list(waiting):
                if running.process.poll() is not None:
                    self.stopped_after[running.name] = round(time.monotonic() - started, 1)
                    waiting.remove(running)
            time.sleep(0.05)
        for running in waiting:
            running.process.kill()
            running.process.wait(timeout=5)
            self.stopped_after[running.name] = round(time.monotonic() - started, 1)
        return {running.name: running.process.returncode for running in self.running}

    def logs_text(self, characters: int = 6000) -> str:
        parts = []
        for log in sorted(self.logs.glob("*.log")):
            parts.append(f"===== {log.name} =====\n{tail(log, characters)}")
        return "\n".join(parts)


def tail(path: Path, characters: int = 4000) -> str:
    if not path.exists():
        return "(no log)"
    return path.read_text(encoding="utf-8", errors="replace")[-characters:]


def wait_until(
    check: Callable[[], bool], *, what: str, timeout: float, alive: Callable[[], None]
) -> None:
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        alive()
        try:
            if check():
                return
        except (OSError, ValueError) as error:
            last = error
        time.sleep(0.25)
    raise AssertionError(f"{what} within {timeout:.0f} s" + (f" (last: {last!r})" if last else ""))


@contextmanager
def logs_on_failure(processes: Processes, extra: Callable[[], str] = str) -> Iterator[None]:
    """On any failure, the processes' logs (and ``extra()``) are printed: pytest shows them
    with the failure."""
    try:
        yield
    except BaseException:
        print(processes.logs_text())
        print(extra())
        raise


def run(
    argv: list[str],
    *,
    environment: dict[str, str],
    cwd: Path,
    timeout: float = 120,
    check: bool = True,
    umask: int | None = None,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """A setup command as the operator runs it; a failure shows its output."""
    result = subprocess.run(
        argv,
        env=environment,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        umask=-1 if umask is None else umask,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{shlex.join(argv)} exited with {result.returncode}\n"
            f"--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-6000:]}"
        )
    return result


def clean_environment() -> dict[str, str]:
    """An operator's shell: no EGOV_*, DATABASE_URL or SECRET_KEY of the test run."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")
    return {name: os.environ[name] for name in keep if name in os.environ}
