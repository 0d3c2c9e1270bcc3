"""The systemd units in deploy/systemd/ (ADR 0009, docs/deployment.md): `systemd-analyze
verify` accepts them without a single complaint, and shows one when a unit is broken; every
`ExecStart=` is one complete egov command line the command itself accepts; every secret
reaches a process only as a credential (`LoadCredential=` and `<NAME>_FILE=%d/...`); restart
policies, the service user, the umask and the sandbox are the same in every unit; and
`egov-run`, the one-off command runner, hands a command the same credentials.

`systemd-analyze verify` checks that each `ExecStart=` binary exists, so the units are checked
in a copy where `/srv/egov/venv/bin/egov` is this checkout's `egov` script; nothing else is
changed.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class

from egov.env import ENV

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "deploy" / "systemd"
EGOV_RUN = ROOT / "deploy" / "bin" / "egov-run"
SYSTEMD_ANALYZE = Path("/usr/bin/systemd-analyze")
INSTALLED_EGOV = "/srv/egov/venv/bin/egov"
LOCAL_EGOV = Path(sys.executable).parent / "egov"
CREDENTIALS = "/etc/egov/credentials"
BASH = shutil.which("bash") or "/bin/bash"

SERVICES = {
    "egov-web.service": "egov-web.service",
    "egov-registries.service": "egov-registries.service",
    "egov-worker@.service": "egov-worker@1.service",
    "egov-gateway@.service": "egov-gateway@GW-PORTAL.service",
}
#: unit file -> the command line its ExecStart runs (after the binary), with %i of the
#: instance verified
COMMANDS = {
    "egov-web.service": ["serve", "--bind", "127.0.0.1:8000"],
    "egov-registries.service": ["serve", "--bind", "127.0.0.1:8001"],
    "egov-worker@.service": ["worker", "--name", "%l-worker%i"],
    "egov-gateway@.service": ["gateway", "run", "%i"],
}
#: ADR 0009's secret variables: each can be given as <NAME>_FILE.
ADR_SECRETS = {
    "SECRET_KEY",
    "DATABASE_URL",
    "CACHE_URL",
    "EMAIL_HOST_PASSWORD",
    "EGOV_BACKUP_PASSPHRASE",
}
#: Every unit's sandbox; docs/deployment.md explains each line.
HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ReadWritePaths": "/var/lib/egov",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "ProtectHome": "yes",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectControlGroups": "yes",
    "CapabilityBoundingSet": "",
    "RestrictSUIDSGID": "yes",
    "SystemCallArchitectures": "native",
}

if not SYSTEMD_ANALYZE.exists():
    if os.environ.get("CI") == "true":
        pytest.fail(f"{SYSTEMD_ANALYZE} is missing: the CI image has systemd", pytrace=False)
    pytest.skip(f"{SYSTEMD_ANALYZE} is missing (apt-get install systemd)", allow_module_level=True)


# --- reading unit files ---------------------------------------------------------------------


@dataclass
class Unit:
    """A unit file's settings, every occurrence of a key kept in order (systemd's keys repeat)."""

    name: str
    sections: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def values(self, section: str, key: str) -> list[str]:
        return [value for name, value in self.sections.get(section, []) if name == key]

    def value(self, section: str, key: str) -> str:
        values = self.values(section, key)
        assert len(values) == 1, f"{self.name}: [{section}] {key}= appears {len(values)} times"
        return values[0]

    def words(self, section: str, key: str) -> set[str]:
        return {word for value in self.values(section, key) for word in value.split()}

    def environment(self) -> dict[str, str]:
        variables = {}
        for value in self.values("Service", "Environment"):
            for assignment in shlex.split(value):
                name, _, setting = assignment.partition("=")
                variables[name] = setting
        return variables

    def credentials(self) -> dict[str, str]:
        loaded = {}
        for value in self.values("Service", "LoadCredential"):
            name, _, path = value.partition(":")
            loaded[name] = path
        return loaded


def read_unit(path: Path) -> Unit:
    unit = Unit(path.name)
    section = ""
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        assert not line.endswith("\\"), f"{path.name}:{number}: one setting per line"
        if line.startswith("["):
            section = line.strip("[]")
            unit.sections.setdefault(section, [])
            continue
        key, separator, value = line.partition("=")
        assert separator, f"{path.name}:{number}: not a setting: {line}"
        unit.sections[section].append((key.strip(), value.strip()))
    return unit


def units() -> dict[str, Unit]:
    return {path.name: read_unit(path) for path in sorted(UNITS.glob("*.service"))}


# --- systemd-analyze --------------------------------------------------------------------------


def local_copy(folder: Path) -> Path:
    """The shipped units with only the egov binary's path replaced by this checkout's."""
    folder.mkdir()
    for path in UNITS.iterdir():
        text = path.read_text(encoding="utf-8")
        (folder / path.name).write_text(
            text.replace(INSTALLED_EGOV, str(LOCAL_EGOV)), encoding="utf-8"
        )
    return folder


def verify(folder: Path, *names: str) -> subprocess.CompletedProcess[str]:
    """`systemd-analyze verify` as systemd would load the units from ``folder``. It says
    "ignoring" and still exits 0 for a misspelled key or a bad value: any output is a
    complaint."""
    return subprocess.run(
        [str(SYSTEMD_ANALYZE), "verify", "--man=no", *names],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SYSTEMD_LOG_COLOR": "0", "SYSTEMD_PAGER": ""},
    )


def all_names() -> list[str]:
    return ["egov.target", *SERVICES.values()]


def test_the_units_are_what_adr_0009_names() -> None:
    assert {path.name for path in UNITS.iterdir()} == {"egov.target", *SERVICES}
    assert LOCAL_EGOV.exists(), LOCAL_EGOV


def test_systemd_analyze_verify_accepts_every_unit_without_a_complaint(tmp_path: Path) -> None:
    result = verify(local_copy(tmp_path / "units"), *all_names())
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout + result.stderr == ""


BREAKAGES = {
    "a misspelled key": ("ProtectSystem=strict", "ProtectSytem=strict"),
    "an unknown restart policy": ("Restart=on-failure", "Restart=on-falure"),
    "a credential without its path": (
        f"LoadCredential=secret_key:{CREDENTIALS}/secret_key",
        f"LoadCredential=secret_key {CREDENTIALS}/secret_key",
    ),
    "a binary that is not there": (str(LOCAL_EGOV), str(LOCAL_EGOV) + "-missing"),
    "no [Service] section": ("[Service]", "[Servce]"),
    "a bad specifier": ("%d/secret_key", "%Z/secret_key"),
}


@pytest.mark.parametrize("unit", list(SERVICES))
@pytest.mark.parametrize("breakage", list(BREAKAGES))
def test_systemd_analyze_verify_complains_about_a_broken_unit(
    tmp_path: Path, unit: str, breakage: str
) -> None:
    folder = local_copy(tmp_path / "units")
    original, broken = BREAKAGES[breakage]
    text = (folder / unit).read_text(encoding="utf-8")
    assert original in text, f"{unit} has no {original!r} to break"
    (folder / unit).write_text(text.replace(original, broken, 1), encoding="utf-8")

    result = verify(folder, *all_names())

    complaint = result.stdout + result.stderr
    assert complaint != "", f"{breakage} in {unit} went unnoticed"
    assert unit in complaint or SERVICES[unit] in complaint, complaint


def test_every_service_is_sandboxed_to_a_low_exposure(tmp_path: Path) -> None:
    """`systemd-analyze security` scores what a compromised process could do (0 to 10);
    the units stay at most 2.0 ("OK"). Without their sandbox they score about 9."""
    folder = local_copy(tmp_path / "units")
    for unit in SERVICES.values():
        result = subprocess.run(
            [str(SYSTEMD_ANALYZE), "security", "--offline=yes", "--threshold=20", unit],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "SYSTEMD_LOG_COLOR": "0", "SYSTEMD_PAGER": ""},
        )
        last = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
        assert result.returncode == 0, f"{unit}: {last or result.stderr}"
        assert "Overall exposure level" in last, result.stdout + result.stderr

    unsandboxed = folder / "egov-web.service"
    text = unsandboxed.read_text(encoding="utf-8")
    unsandboxed.write_text(text.split("# Hardening:")[0] + "[Install]\nWantedBy=egov.target\n")
    result = subprocess.run(
        [str(SYSTEMD_ANALYZE), "security", "--offline=yes", "--threshold=20", unsandboxed.name],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0, "the threshold does not tell a sandbox from none"


# --- what the units run -------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(SERVICES))
def test_exec_start_is_one_complete_egov_command_line(name: str) -> None:
    unit = units()[name]
    line = unit.value("Service", "ExecStart")
    # No shell, no prefixes (-, @, +, !), no variables: another program can run it as it is.
    assert not re.search(r"[$`;&|<>\"'\\]", line), line
    arguments = shlex.split(line)
    assert arguments[0] == INSTALLED_EGOV
    assert arguments[1:] == COMMANDS[name]
    assert unit.values("Service", "ExecStartPre") == []  # migrations are not run at each start


@pytest.mark.parametrize("name", list(SERVICES))
def test_exec_start_names_an_egov_command_that_accepts_its_arguments(name: str) -> None:
    arguments = shlex.split(units()[name].value("Service", "ExecStart"))[1:]
    command = arguments[0]
    result = subprocess.run(
        [str(LOCAL_EGOV), "help", command], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "usage: egov" in result.stdout

    instance = SERVICES[name].partition("@")[2].removesuffix(".service")
    arguments = [argument.replace("%i", instance) for argument in arguments]
    parser = load_command_class(get_commands()[command], command).create_parser("egov", command)
    parser.parse_args(arguments[1:])  # an unknown option or a missing argument exits


def test_the_registries_unit_serves_the_registries_pages_only() -> None:
    service = units()["egov-registries.service"]
    assert service.environment()["EGOV_ROOT_URLCONF"] == "egov.registries.urls"
    assert "EGOV_ROOT_URLCONF" not in units()["egov-web.service"].environment()


# --- secrets --------------------------------------------------------------------------------


def credential_name(variable: str) -> str:
    """SECRET_KEY_FILE reads the credential secret_key, EGOV_BACKUP_PASSPHRASE_FILE
    backup_passphrase: the secret's name in lower case, without egov's prefix."""
    return variable.removesuffix("_FILE").removeprefix("EGOV_").lower()


def secret_variables() -> set[str]:
    declared = {variable.name for variable in ENV.declared.values() if variable.kind == "secret"}
    return ADR_SECRETS | declared


@pytest.mark.parametrize("name", list(SERVICES))
def test_every_secret_a_unit_gives_comes_from_a_credential(name: str) -> None:
    unit = units()[name]
    environment = unit.environment()
    loaded = unit.credentials()
    secrets = secret_variables()

    assert not secrets & set(environment), "a secret written into the unit itself"
    given = {variable for variable in environment if variable.endswith("_FILE")}
    for variable in given:
        assert variable.removesuffix("_FILE") in secrets, f"{variable} is not a secret's file"
        directory, _, credential = environment[variable].partition("/")
        assert directory == "%d", f"{variable} must point into the credentials folder (%d)"
        assert credential in loaded, f"{variable} names {credential}, which is not loaded"
        # One name for a secret everywhere: the credential (and its file) is the variable's.
        assert credential == credential_name(variable), variable
    for credential, path in loaded.items():
        assert path == f"{CREDENTIALS}/{credential}", path
        assert f"%d/{credential}" in environment.values(), f"{credential} is loaded, not used"
    assert "SECRET_KEY_FILE" in given  # every process loads the settings, which need it


def test_only_the_processes_that_use_the_database_get_its_credential() -> None:
    every = units()
    for name in ("egov-web.service", "egov-registries.service", "egov-worker@.service"):
        assert "DATABASE_URL_FILE" in every[name].environment(), name
    # The gateway is the process other members' gateways talk to; it never uses the database.
    assert set(every["egov-gateway@.service"].credentials()) == {"secret_key", "pki_key_passphrase"}


def test_every_secret_has_a_credential_somewhere() -> None:
    """Each secret reaches egov through a credential: the services' or egov-run's (the backup
    passphrase is only for `egov backup` and `egov restore`, run through egov-run)."""
    in_units = {
        variable.removesuffix("_FILE")
        for unit in units().values()
        for variable in unit.environment()
        if variable.endswith("_FILE")
    }
    in_egov_run = set(re.findall(r"^\S+ \S+ (\w+)_FILE$", EGOV_RUN.read_text(), re.MULTILINE))
    assert secret_variables() == in_units | in_egov_run
    assert in_egov_run == secret_variables()
    for name, file, variable in re.findall(r"^(\S+) (\S+) (\w+)_FILE$", EGOV_RUN.read_text(), re.M):
        assert name == credential_name(f"{variable}_FILE"), name
        assert file in (name, "$database_url"), file


# --- supervision ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(SERVICES))
def test_restart_policy_user_umask_and_environment(name: str) -> None:
    unit = units()[name]
    assert unit.value("Service", "Restart") == "on-failure"
    assert re.fullmatch(r"\d+s", unit.value("Service", "RestartSec"))
    assert int(unit.value("Unit", "StartLimitIntervalSec")) > 0
    assert int(unit.value("Unit", "StartLimitBurst")) > 0
    assert unit.value("Service", "User") == "egov"
    assert unit.value("Service", "Group") == "egov"
    assert unit.value("Service", "UMask") == "0077"
    assert unit.value("Service", "EnvironmentFile") == "/etc/egov/egov.env"
    assert unit.value("Service", "Type") == "exec"
    for key, value in HARDENING.items():
        assert unit.value("Service", key) == value, key
    assert unit.value("Unit", "PartOf") == "egov.target"
    assert unit.value("Install", "WantedBy") == "egov.target"


def test_start_order() -> None:
    every = units()
    for name in ("egov-web.service", "egov-registries.service", "egov-worker@.service"):
        after = every[name].words("Unit", "After")
        assert {"network-online.target", "postgresql.service"} <= after, name
        assert "network-online.target" in every[name].words("Unit", "Wants"), name
    gateway = every["egov-gateway@.service"].words("Unit", "After")
    assert {"network-online.target", "egov-web.service", "egov-registries.service"} <= gateway
    assert "egov-worker@1.service" in every["egov-web.service"].words("Unit", "Wants")
    target = read_unit(UNITS / "egov.target")
    assert target.value("Install", "WantedBy") == "multi-user.target"


# --- egov-run -------------------------------------------------------------------------------


STUB = """#!{python}
import json, os, sys
print(json.dumps(sys.argv[1:]))
"""


def egov_run(tmp_path: Path, *arguments: str, credentials: tuple[str, ...]) -> list[str]:
    """egov-run's systemd-run command line, with a stand-in systemd-run that prints it."""
    bin_folder = tmp_path / "bin"
    bin_folder.mkdir(exist_ok=True)
    stub = bin_folder / "systemd-run"
    stub.write_text(STUB.format(python=sys.executable), encoding="utf-8")
    stub.chmod(0o755)
    folder = tmp_path / "credentials"
    folder.mkdir(exist_ok=True)
    for name in credentials:
        (folder / name).write_text("value\n", encoding="utf-8")
    result = subprocess.run(
        [BASH, str(EGOV_RUN), *arguments],
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
        env={
            **os.environ,
            "PATH": f"{bin_folder}{os.pathsep}{os.environ['PATH']}",
            "EGOV_CREDENTIALS_DIR": str(folder),
        },
    )
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout))


def options(command_line: list[str], name: str) -> list[str]:
    return [
        argument.partition("=")[2] for argument in command_line if argument.startswith(f"{name}=")
    ]


def test_egov_run_gives_a_command_the_services_user_settings_and_credentials(
    tmp_path: Path,
) -> None:
    every = (
        "secret_key",
        "database_url",
        "cache_url",
        "email_host_password",
        "backup_passphrase",
        "pki_key_passphrase",
        "pki_pkcs11_pin",
    )
    line = egov_run(tmp_path, "check", "--deploy", credentials=every)

    separator = line.index(INSTALLED_EGOV)
    assert line[separator:] == [INSTALLED_EGOV, "check", "--deploy"]
    properties = options(line[:separator], "--property")
    web = units()["egov-web.service"]
    for key in ("User", "Group", "UMask", "EnvironmentFile", "WorkingDirectory"):
        assert f"{key}={web.value('Service', key)}" in properties
    unit = options(line, "--unit")[0]
    loaded = {
        value.removeprefix("LoadCredential=").partition(":")[0]: value.partition(":")[2]
        for value in properties
        if value.startswith("LoadCredential=")
    }
    assert loaded == {name: str(tmp_path / "credentials" / name) for name in every}
    variables = dict(value.split("=", 1) for value in options(line, "--setenv"))
    directory = f"/run/credentials/{unit}.service"
    assert variables == {
        "SECRET_KEY_FILE": f"{directory}/secret_key",
        "DATABASE_URL_FILE": f"{directory}/database_url",
        "CACHE_URL_FILE": f"{directory}/cache_url",
        "EMAIL_HOST_PASSWORD_FILE": f"{directory}/email_host_password",
        "EGOV_BACKUP_PASSPHRASE_FILE": f"{directory}/backup_passphrase",
        "EGOV_PKI_KEY_PASSPHRASE_FILE": f"{directory}/pki_key_passphrase",
        "EGOV_PKI_PKCS11_PIN_FILE": f"{directory}/pki_pkcs11_pin",
    }
    assert "--wait" in line and "--pipe" in line  # the command's output and exit status


def test_egov_run_passes_each_argument_as_typed(tmp_path: Path) -> None:
    """systemd-run hands the words over as they are, but the service manager expands $NAME
    and ${NAME} in a command's arguments and turns $$ into $: every $ goes as $$."""
    typed = ["shell", "-c", "print('$HOME ${USER} $$ $')", "a name with  spaces", ""]

    line = egov_run(tmp_path, *typed, credentials=("secret_key",))

    assert line[line.index(INSTALLED_EGOV) + 1 :] == [
        "shell",
        "-c",
        "print('$$HOME $${USER} $$$$ $$')",
        "a name with  spaces",
        "",
    ]


def test_egov_run_passes_only_the_credentials_the_host_has(tmp_path: Path) -> None:
    line = egov_run(tmp_path, "migrate", credentials=("secret_key", "database_url"))
    variables = {value.split("=", 1)[0] for value in options(line, "--setenv")}
    assert variables == {"SECRET_KEY_FILE", "DATABASE_URL_FILE"}


def test_egov_run_owner_connects_as_the_database_owner(tmp_path: Path) -> None:
    line = egov_run(
        tmp_path,
        "--owner",
        "migrate",
        credentials=("secret_key", "database_url", "database_url_owner"),
    )
    properties = options(line, "--property")
    assert f"LoadCredential=database_url:{tmp_path}/credentials/database_url_owner" in properties
    assert f"LoadCredential=database_url:{tmp_path}/credentials/database_url" not in properties
    assert line[-1] == "migrate"


def test_egov_run_collectstatic_writes_public_files(tmp_path: Path) -> None:
    """nginx (www-data) reads the collected static files and their .gz copies."""
    assert "UMask=0022" in options(
        egov_run(tmp_path, "collectstatic", "--noinput", credentials=("secret_key",)),
        "--property",
    )
    assert "UMask=0077" in options(
        egov_run(tmp_path, "createsuperuser", credentials=("secret_key",)), "--property"
    )


def test_egov_run_refuses_without_a_command_or_the_owner_credential(tmp_path: Path) -> None:
    for arguments in ([], ["--owner", "migrate"]):
        # No systemd-run on the PATH: egov-run stops before it would run one.
        result = subprocess.run(
            [BASH, str(EGOV_RUN), *arguments],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "EGOV_CREDENTIALS_DIR": str(tmp_path), "PATH": "/nonexistent"},
        )
        assert result.returncode == 2, arguments
        assert "egov-run" in result.stderr


# --- docs/deployment.md says what the units do ------------------------------------------------

PAGE = ROOT / "docs" / "deployment.md"


def test_the_deployment_page_gives_each_units_command_line() -> None:
    rows = {
        line.split("`")[1]: line
        for line in PAGE.read_text(encoding="utf-8").splitlines()
        if line.startswith("| `egov-")
    }
    # The page names the instances as the operator writes them.
    shown = {
        "egov-worker@.service": "egov-worker@N.service",
        "egov-gateway@.service": "egov-gateway@CODE.service",
    }
    for name, arguments in COMMANDS.items():
        command = " ".join(["egov", *arguments])
        command = command.replace("%l-worker%i", "<host>-workerN").replace("%i", "CODE")
        row = rows.get(shown.get(name, name), "")
        assert f"`{command}" in row, (name, row)


def test_the_deployment_page_lists_every_credential_file() -> None:
    page = PAGE.read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `(\w+)` \| `[A-Z0-9_]+`", page, re.MULTILINE))
    in_egov_run = set(re.findall(r"^\S+ (\S+) \w+_FILE$", EGOV_RUN.read_text(), re.MULTILINE))
    assert listed == (in_egov_run - {"$database_url"}) | {"database_url", "database_url_owner"}
    in_units = {name for unit in units().values() for name in unit.credentials()}
    assert in_units <= listed


def test_every_command_of_the_deployment_page_exists() -> None:
    """Each `egov-run [--owner] COMMAND` and each unit `systemctl enable` names."""
    page = PAGE.read_text(encoding="utf-8")
    commands = set(re.findall(r"egov-run (?:--owner )?([a-z][a-z_-]*)", page))
    assert {"migrate", "collectstatic", "check", "exchange", "backup", "restore"} <= commands
    known = get_commands()
    assert {command.replace("-", "_") for command in commands} <= set(known), commands
    enabled = {
        unit
        for line in re.findall(r"^systemctl enable (.*)$", page, re.MULTILINE)
        for unit in line.split()
    }
    assert "egov.target" in enabled
    for unit in enabled - {"egov.target"}:
        template = re.sub(r"@[^.]+\.service$", "@.service", unit)
        assert (UNITS / template).exists(), unit
