"""A fresh country that is not Belarus, brought up in production the way docs/deployment.md
says, on one scratch host: PostgreSQL, nginx in front with TLS, every process started from the
command line of its own unit in deploy/systemd/, the setup commands through the shipped
deploy/bin/egov-run; then a citizen applies for a service prefilled from the population
register through both gateways, the running instance is backed up and restored into a second
fresh database and data folder, and the restored instance has the application and verifies
its message logs.

The country (instance KZ) is tests/deploy/production/: its exchange description, its
catalogue and service definition, and the environment file. What systemd does for a unit is
emulated by tests/deploy/production/host.py; ``systemd-run`` (which egov-run calls) by
tests/deploy/production/systemd_run.py.

Needs PostgreSQL at 127.0.0.1:5432 (trust for ``postgres``) and /usr/sbin/nginx. It runs
once per CI run, in the PostgreSQL pass (the suite's DATABASE_URL is PostgreSQL): it brings
up its own databases either way, so the SQLite pass would only repeat it.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import secrets
import shutil
import socket
import ssl
import stat
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from string import Template
from typing import Any

import pytest
import yaml

from tests.deploy.production.host import (
    EGOV,
    REPOSITORY,
    Processes,
    ScratchHost,
    argument_replace,
    clean_environment,
    environment_file_read,
    logs_on_failure,
    run,
    wait_until,
)
from tests.ports import free_port

NGINX = Path("/usr/sbin/nginx")
POSTGRES = "postgresql://postgres@127.0.0.1:5432"
COUNTRY = Path(__file__).resolve().parent / "production"
#: The portal's host name: it must resolve (the gateways fetch the global configuration from
#: it, and nginx answers only its own server name, so not an IP address).
HOST_NAME = "localhost"
SERVICE = "KZ-RESIDENCE-CERT"
PERSON_SERVICE = "KZ/GOV/MIA/population/person"
PORTAL_CLIENT = "KZ/GOV/EGOV/portal"
GATEWAYS = ("GW-REGISTRIES", "GW-PORTAL")
PASSWORD = "Steppe-Pass-2026-kz"
TOTP_KEY = secrets.token_hex(20)
READY_WITHIN = 60.0

pytestmark = pytest.mark.production


def _postgres_answers() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=2).close()
    except OSError:
        return False
    return True


if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
    pytest.skip(
        "runs once, in the suite's PostgreSQL pass (DATABASE_URL=postgres://…): it brings up "
        "its own PostgreSQL databases and nginx whatever the suite's database is",
        allow_module_level=True,
    )
_missing = [
    what
    for what, present in (
        (f"{NGINX} (apt-get install nginx)", NGINX.exists()),
        ("PostgreSQL at 127.0.0.1:5432", _postgres_answers()),
    )
    if not present
]
if _missing:
    if os.environ.get("CI") == "true":
        pytest.fail(f"missing: {', '.join(_missing)} (.ci/run provides both)", pytrace=False)
    pytest.skip(f"missing: {', '.join(_missing)}", allow_module_level=True)

from tests.deploy.test_nginx import nginx_configuration, self_signed  # noqa: E402

# --- PostgreSQL -------------------------------------------------------------------------------


@dataclass
class Database:
    """docs/deployment.md's roles and database (section 5), with names of this run's own."""

    name: str
    owner: str
    app: str
    owner_url: str
    app_url: str


def page_sql() -> str:
    """The SQL of docs/deployment.md's `sudo -u postgres psql … <<'SQL'` block."""
    match = re.search(
        r"^sudo -u postgres psql [^\n]*<<'SQL'\n(.*?)\nSQL\n",
        (REPOSITORY / "docs" / "deployment.md").read_text(encoding="utf-8"),
        re.S | re.M,
    )
    assert match, "docs/deployment.md has no psql block"
    return match.group(1)


def database_roles_create() -> Database:
    """The page's SQL as it stands, run by psql as the page does; the database and the
    application's role are both `egov` there, made unique here."""
    suffix = secrets.token_hex(4)
    owner, app = f"egov_owner_{suffix}", f"egov_production_{suffix}"
    passwords = {
        "owner_password": secrets.token_urlsafe(16),
        "app_password": secrets.token_urlsafe(16),
    }
    sql = re.sub(r"\begov\b", app, re.sub(r"\begov_owner\b", owner, page_sql()))
    variables = [item for name, value in passwords.items() for item in ("-v", f"{name}={value}")]
    psql = run(
        ["psql", f"{POSTGRES}/postgres", "-v", "ON_ERROR_STOP=1", *variables],
        environment=clean_environment(),
        cwd=REPOSITORY,
        input=sql,
    )
    assert psql.returncode == 0, psql.stderr
    server = "127.0.0.1:5432"
    return Database(
        name=app,
        owner=owner,
        app=app,
        owner_url=f"postgres://{owner}:{passwords['owner_password']}@{server}/{app}",
        app_url=f"postgres://{app}:{passwords['app_password']}@{server}/{app}",
    )


def database_create(name: str, *, owner: str) -> None:
    """An empty database owned by the owner role, for a restore (docs/backup-and-upgrades.md:
    `createdb -O egov_owner egov`)."""
    made = run(
        ["createdb", "-h", "127.0.0.1", "-U", "postgres", "-O", owner, name],
        environment=clean_environment(),
        cwd=REPOSITORY,
    )
    assert made.returncode == 0, made.stderr


def databases_drop(names: list[str], roles: list[str]) -> None:
    import psycopg

    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
        for name in names:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for role in roles:
            connection.execute(f'DROP ROLE IF EXISTS "{role}"')


# --- HTTPS through nginx ------------------------------------------------------------------------


@dataclass
class Page:
    status: int
    url: str
    text: str

    @property
    def path(self) -> str:
        return urllib.parse.urlsplit(self.url).path

    def csrf(self) -> str:
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', self.text)
        assert match, f"no CSRF token on {self.url}:\n{self.text[:2000]}"
        return match.group(1)


class Browser:
    """A person's browser on the portal over HTTPS through nginx: cookies, CSRF tokens from the
    forms, redirects followed."""

    def __init__(self, base: str, ca_file: Path) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        context = ssl.create_default_context(cafile=str(ca_file))
        handlers = [
            urllib.request.HTTPSHandler(context=context),
            urllib.request.HTTPCookieProcessor(self.jar),
        ]
        self.opener = urllib.request.build_opener(*handlers)

    def _open(self, request: urllib.request.Request) -> Page:
        try:
            with self.opener.open(request, timeout=30) as answer:
                return Page(answer.status, answer.url, answer.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            return Page(error.code, error.url, error.read().decode("utf-8", errors="replace"))

    def get(self, path: str) -> Page:
        return self._open(urllib.request.Request(self.base + path))

    def post(self, path: str, data: dict[str, str], *, csrf: str) -> Page:
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": csrf, **data}).encode()
        request = urllib.request.Request(
            self.base + path,
            data=body,
            headers={"Origin": self.base, "Referer": self.base + path},
            method="POST",
        )
        return self._open(request)


def https_json(url: str, ca_file: Path) -> tuple[int, Any]:
    context = ssl.create_default_context(cafile=str(ca_file))
    try:
        with urllib.request.urlopen(url, context=context, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def http_json(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


# --- the country ---------------------------------------------------------------------------------


@dataclass
class Country:
    root: Path
    host: ScratchHost
    processes: Processes
    egov_run: list[str]
    operator: dict[str, str]
    portal: str
    ca_file: Path
    ports: dict[str, int]
    database: Database
    citizen: dict[str, str]
    scratch: Path
    restored: dict[str, Any] = field(default_factory=dict)
    timings: list[tuple[str, float]] = field(default_factory=list)
    _application: str | None = None

    def egov(self, *arguments: str, check: bool = True, timeout: float = 120) -> Any:
        """``egov-run ARGUMENTS…`` as the operator types it (docs/deployment.md)."""
        started = time.monotonic()
        try:
            return run(
                [*self.egov_run, *arguments],
                environment=self.operator,
                cwd=self.root,
                check=check,
                timeout=timeout,
            )
        finally:
            self.timings.append((" ".join(arguments[:2]), time.monotonic() - started))

    def exchange_dir(self) -> Path:
        return self.host.path("/var/lib/egov") / "exchange"

    def message_log(self, gateway: str) -> list[dict[str, Any]]:
        folder = json.loads((self.exchange_dir() / gateway / "gateway.json").read_text())["log_dir"]
        rows = []
        for path in sorted(Path(folder).glob("*.jsonl")):
            rows += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        return rows

    def application(self) -> str:
        """The citizen's application, made once (test_a_citizen_applies… makes it and checks
        every step; another test that needs one gets the same)."""
        if self._application is None:
            self._application = apply(self)
        return self._application


def country_description(ports: dict[str, int]) -> str:
    """country.yaml with this host's free ports for the gateways' listeners."""
    data = yaml.safe_load((COUNTRY / "country.yaml").read_text(encoding="utf-8"))
    for gateway in data["gateways"]:
        code = gateway["code"]
        for key in ("client_listen", "client_tls_listen", "server_listen"):
            gateway[key] = f"127.0.0.1:{ports[f'{code} {key}']}"
        gateway["health_port"] = ports[f"{code} health_port"]
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def write_private(path: Path, value: str) -> None:
    path.write_text(value + "\n", encoding="utf-8")
    path.chmod(0o600)


def host_layout(root: Path, ports: dict[str, int], *, database: Database, smtp: int) -> Path:
    """Folders, credentials and the environment file of docs/deployment.md; returns the CA
    file the gateways trust for the portal's certificate."""
    for folder, mode in (
        ("etc/egov", 0o755),
        ("etc/egov/credentials", 0o700),
        ("var/lib/egov", 0o700),
        ("srv/egov/static", 0o755),
        ("etc/ssl/egov", 0o755),
        ("etc/ssl/private", 0o700),
        ("run", 0o755),
        ("bin", 0o755),
    ):
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder).chmod(mode)
    credentials = root / "etc/egov/credentials"
    write_private(credentials / "secret_key", secrets.token_urlsafe(50))
    write_private(credentials / "database_url", database.app_url)
    write_private(credentials / "database_url_owner", database.owner_url)
    write_private(credentials / "cache_url", "locmemcache://egov")
    write_private(credentials / "email_host_password", "")
    write_private(credentials / "backup_passphrase", secrets.token_urlsafe(32))
    write_private(credentials / "pki_key_passphrase", secrets.token_urlsafe(32))
    # The portal's certificate from the ministry's own CA (here a self-signed one), and that
    # CA's bundle for the gateways (docs/deployment.md: /etc/egov/central-ca.pem).
    certificate, key = self_signed(root / "etc/ssl/egov", HOST_NAME)
    shutil.move(key, root / "etc/ssl/private/egov.key")
    shutil.copyfile(certificate, root / "etc/egov/central-ca.pem")
    (root / "etc/egov/central-ca.pem").chmod(0o644)
    portal = f"https://{HOST_NAME}:{ports['https']}"
    environment = Template((COUNTRY / "egov.env").read_text(encoding="utf-8")).substitute(
        HOST=HOST_NAME,
        PORTAL=portal,
        ROOT=str(root),
        GW_PORTAL_CLIENT_TLS=ports["GW-PORTAL client_tls_listen"],
        SMTP_PORT=smtp,
    )
    write_private(root / "etc/egov/egov.env", environment)
    (root / "etc/egov/country.yaml").write_text(country_description(ports), encoding="utf-8")
    (root / "etc/egov/country.yaml").chmod(0o644)
    shutil.copyfile(COUNTRY / "catalogue.yaml", root / "etc/egov/catalogue.yaml")
    shutil.copytree(COUNTRY / "definitions", root / "etc/egov/definitions")
    return certificate


def operator_shell(root: Path) -> tuple[list[str], dict[str, str]]:
    """The shipped egov-run, with ``systemd-run`` the test's stand-in first on PATH."""
    stand_in = root / "bin" / "systemd-run"
    stand_in.write_text(
        f'#!/bin/sh\nexec "{sys.executable}" "{COUNTRY / "systemd_run.py"}" "$@"\n',
        encoding="utf-8",
    )
    stand_in.chmod(0o755)
    environment = clean_environment()
    environment.update(
        PATH=f"{root / 'bin'}:{environment.get('PATH', '/usr/bin:/bin')}",
        EGOV_SCRATCH_ROOT=str(root),
        EGOV_CREDENTIALS_DIR=str(root / "etc/egov/credentials"),
        EGOV_ENVIRONMENT_FILE=str(root / "etc/egov/egov.env"),
        EGOV_BIN=EGOV,
    )
    return ["bash", str(REPOSITORY / "deploy" / "bin" / "egov-run")], environment


CITIZEN_SCRIPT = """
import json
from django_otp.plugins.otp_totp.models import TOTPDevice
from egov.identity.models import User
from egov.registries.population.models import Person
person = (
    Person.objects.filter(status="alive", birth_date__year__lte=2000)
    .order_by("personal_number")
    .first()
)
user = User.objects.create_user(
    "citizen@kz.example", "{password}", kind="citizen", first_name=person.first_name_be,
    last_name=person.last_name_be, personal_number=person.personal_number,
    email_verified=True,
)
TOTPDevice.objects.create(user=user, name="authenticator", key="{key}", confirmed=True)
print(json.dumps({{"personal_number": person.personal_number,
    "last_name": person.last_name_be, "first_name": person.first_name_be}}))
"""


def setup_commands(country: Country) -> None:
    """docs/deployment.md's first start (section 8), command by command."""
    egov, path = country.egov, country.host.path
    egov("--owner", "migrate", "--noinput")
    egov("collectstatic", "--noinput")
    country.restored["check --deploy"] = egov("check", "--deploy", check=False)
    egov("pki", "init", "--instance", "KZ")
    egov(
        "exchange",
        "setup",
        "--file",
        str(path("/etc/egov/country.yaml")),
        "--registries-url",
        f"http://127.0.0.1:{country.ports['registries']}",
        "--central-url",
        f"{country.portal}/",
        "--central-ca",
        str(path("/etc/egov/central-ca.pem")),
    )
    egov(
        "catalog",
        "load",
        str(path("/etc/egov/catalogue.yaml")),
        "--definitions",
        str(path("/etc/egov/definitions")),
    )
    # A test country: its registers get a synthetic population, and one of its people an
    # account with an authenticator (the level the service asks for).
    egov("registry", "generate", "--persons", "200", "--companies", "0", "--no-progress")
    created = egov("shell", "-c", CITIZEN_SCRIPT.format(password=PASSWORD, key=TOTP_KEY))
    country.citizen = json.loads(created.stdout.strip().splitlines()[-1])


def start_processes(country: Country) -> None:
    """Every process from its unit's ExecStart=, then nginx with the shipped site."""
    host, processes, ports = country.host, country.processes, country.ports
    binds = {
        "egov-web.service": ports["web"],
        "egov-registries.service": ports["registries"],
    }
    for unit, instance in (
        ("egov-worker@.service", "1"),
        ("egov-registries.service", ""),
        ("egov-web.service", ""),
    ):
        service = host.service(unit, instance=instance)
        argv = service.argv
        if unit in binds:
            argv = argument_replace(argv, "--bind", f"127.0.0.1:{binds[unit]}")
        processes.start(
            service.unit,
            argv,
            environment=service.environment,
            cwd=service.cwd,
            umask=service.umask,
        )
    folder = country.scratch / "nginx"
    folder.mkdir()
    configuration = nginx_configuration(
        folder,
        http=ports["http"],
        https=ports["https"],
        upstream=ports["web"],
        server_name=HOST_NAME,
        tls=(country.ca_file, host.root / "etc/ssl/private/egov.key"),
        static=host.path("/srv/egov/static"),
    )
    command = [str(NGINX), "-p", str(folder), "-c", str(configuration)]
    checked = run([*command, "-t"], environment=clean_environment(), cwd=folder)
    assert checked.returncode == 0, checked.stderr
    processes.start("nginx", [*command, "-g", "daemon off;"], environment={}, cwd=folder)
    for code in GATEWAYS:
        service = host.service("egov-gateway@.service", instance=code)
        assert service.argv[1:] == ["gateway", "run", code], service.argv
        processes.start(
            service.unit,
            service.argv,
            environment=service.environment,
            cwd=service.cwd,
            umask=service.umask,
        )


def wait_ready(country: Country) -> dict[str, Any]:
    """Each process's readiness as docs/deployment.md's health table gives it."""
    processes, ports = country.processes, country.ports
    answers: dict[str, Any] = {}

    def alive() -> None:
        for running in processes.running:
            processes.alive(running)

    started = time.monotonic()

    def ready(name: str, fetch: Any) -> bool:
        status, body = fetch()
        answers[name] = (status, body)
        return status == 200 and body.get("status") == "ready"

    wait_until(
        lambda: ready(
            "registries", lambda: http_json(f"http://127.0.0.1:{ports['registries']}/readyz")
        ),
        what="the registries' /readyz",
        timeout=READY_WITHIN,
        alive=alive,
    )
    country.timings.append(("registries ready", time.monotonic() - started))
    wait_until(
        lambda: ready("web", lambda: https_json(f"{country.portal}/readyz", country.ca_file)),
        what="the portal's /readyz through nginx",
        timeout=READY_WITHIN,
        alive=alive,
    )
    country.timings.append(("web ready", time.monotonic() - started))
    # The same web process asked directly on loopback, as docs/deployment.md's checks do.
    answers["web liveness"] = http_json(f"http://127.0.0.1:{ports['web']}/healthz")
    answers["web direct"] = http_json(f"http://127.0.0.1:{ports['web']}/readyz")
    for code in GATEWAYS:
        port = ports[f"{code} health_port"]
        wait_until(
            lambda code=code, port=port: ready(
                code, lambda: http_json(f"http://127.0.0.1:{port}/readyz")
            ),
            what=f"{code}'s /readyz on its health address",
            timeout=READY_WITHIN,
            alive=alive,
        )
    country.timings.append(("gateways ready", time.monotonic() - started))
    wait_until(
        lambda: country.egov("health", "worker", check=False).returncode == 0,
        what="the worker's heartbeat (egov health worker)",
        timeout=READY_WITHIN,
        alive=alive,
    )
    return answers


@pytest.fixture(scope="module")
def country(tmp_path_factory: pytest.TempPathFactory, smtp_server) -> Iterator[Country]:  # type: ignore[no-untyped-def]
    scratch = tmp_path_factory.mktemp("production")
    root = scratch / "host"
    ports = {name: free_port() for name in ("https", "http", "web", "registries")}
    for code in GATEWAYS:
        for key in ("client_listen", "client_tls_listen", "server_listen", "health_port"):
            ports[f"{code} {key}"] = free_port()
    database = database_roles_create()
    names, roles = [database.name], [database.owner, database.app]
    processes = Processes(scratch / "logs")
    try:
        ca_file = host_layout(root, ports, database=database, smtp=smtp_server[0].port)
        egov_run, operator = operator_shell(root)
        built = Country(
            root=root,
            host=ScratchHost(root),
            processes=processes,
            egov_run=egov_run,
            operator=operator,
            portal=f"https://{HOST_NAME}:{ports['https']}",
            ca_file=ca_file,
            ports=ports,
            database=database,
            citizen={},
            scratch=scratch,
        )
        built.restored["databases"] = names
        with logs_on_failure(processes):
            setup_commands(built)
            started = time.monotonic()
            start_processes(built)
            built.restored["readiness"] = wait_ready(built)
            built.timings.append(("start and ready", time.monotonic() - started))
        yield built
    finally:
        started = time.monotonic()
        codes = processes.stop_all()
        print(f"exit codes: {codes}, stopped after (s): {processes.stopped_after}")
        if "built" in locals():
            print("timings: " + ", ".join(f"{what} {took:.1f} s" for what, took in built.timings))
        databases_drop(names, roles)


# --- the journey ---------------------------------------------------------------------------------


def login(country: Country) -> Browser:
    from django_otp.oath import totp

    browser = Browser(country.portal, country.ca_file)
    page = browser.get("/en/account/login/")
    assert page.status == 200, page.text[:2000]
    page = browser.post(
        "/en/account/login/",
        {"username": "citizen@kz.example", "password": PASSWORD},
        csrf=page.csrf(),
    )
    assert page.path == "/en/account/login/code/", (page.status, page.url, page.text[:2000])
    code = f"{totp(bytes.fromhex(TOTP_KEY)):06d}"
    page = browser.post("/en/account/login/code/", {"token": code}, csrf=page.csrf())
    assert (page.status, page.path) == (200, "/en/my-account/"), (page.url, page.text[:2000])
    return browser


def apply(country: Country) -> str:
    """Apply for the prefilled service through nginx; returns the application's number."""
    browser = login(country)
    citizen = country.citizen
    service = browser.get(f"/en/services/{SERVICE}/")
    assert service.status == 200
    page = browser.post(f"/en/services/{SERVICE}/apply/", {}, csrf=service.csrf())
    match = re.fullmatch(r"/en/my-account/drafts/([0-9a-f-]{36})/person/", page.path)
    assert page.status == 200 and match, (page.status, page.url, page.text[:3000])
    draft = match.group(1)
    html = unescape(page.text)
    # The register's values, shown read-only with their source: no input for them.
    for value in (citizen["last_name"], citizen["first_name"], citizen["personal_number"]):
        assert value in html
    assert html.count("From the population register") == 3
    for name in ("last_name", "first_name", "personal_number"):
        assert f'name="{name}"' not in html
    assert 'name="purpose"' in html
    page = browser.post(page.path, {"purpose": "For my employer"}, csrf=page.csrf())
    assert (page.status, page.path) == (200, f"/en/my-account/drafts/{draft}/check/"), (
        page.url,
        page.text[:3000],
    )
    assert "For my employer" in page.text
    page = browser.post(page.path, {}, csrf=page.csrf())
    match = re.fullmatch(r"/en/my-account/applications/([A-Z0-9-]+)/", page.path)
    assert page.status == 200 and match, (page.status, page.url, page.text[:3000])
    number = match.group(1)
    assert number.startswith("MIA-")
    cabinet = browser.get("/en/my-account/applications/")
    assert cabinet.status == 200
    assert number in cabinet.text
    return number


def test_the_environment_file_sets_what_the_shipped_example_asks_for() -> None:
    """The test country's egov.env follows deploy/egov.env.example: it sets every variable the
    example leaves uncommented (what production sets), and only variables the example
    declares."""
    example = (REPOSITORY / "deploy" / "egov.env.example").read_text(encoding="utf-8")
    required = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", example, flags=re.MULTILINE))
    declared = set(re.findall(r"^# ([A-Z][A-Z0-9_]*) \(", example, flags=re.MULTILINE))
    ours = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", (COUNTRY / "egov.env").read_text(), re.M))

    assert required, "deploy/egov.env.example sets nothing"
    assert required <= ours, sorted(required - ours)
    assert ours <= declared, sorted(ours - declared)


def test_every_process_is_ready_and_the_deploy_check_passes(country: Country) -> None:
    with logs_on_failure(country.processes):
        readiness = dict(country.restored["readiness"])
        assert readiness.pop("web liveness") == (200, {"status": "ok"})
        assert set(readiness) == {"registries", "web", "web direct", *GATEWAYS}
        for name, (status, body) in readiness.items():
            assert (status, body["status"]) == (200, "ready"), (name, body)
        for name in ("web", "web direct", "registries"):
            checks = readiness[name][1]["checks"]
            assert {"database", "migrations"} <= set(checks), (name, checks)
            assert all(check["ok"] for check in checks.values()), (name, checks)
        assert {"cache", "static_files", "workers"} <= set(readiness["web"][1]["checks"])
        for code in GATEWAYS:
            body = readiness[code][1]
            assert body["globalconf"]["valid"] is True, body
            assert body["globalconf"]["valid_for_seconds"] > 0, body
            assert body["client_side"] == body["provider_side"] == {"listening": True}, body
        # Each gateway fetches the global configuration from the central registry's base
        # address through nginx, trusting the CA of the portal's certificate.
        for code in GATEWAYS:
            conf = json.loads((country.exchange_dir() / code / "gateway.json").read_text())
            assert conf["central_url"] == f"{country.portal}/exchange/globalconf"
            assert conf["central_ca_file"] == str(country.host.path("/etc/egov/central-ca.pem"))
            assert conf["health_listen"] == f"127.0.0.1:{country.ports[f'{code} health_port']}"
        fetched = [
            json.loads(line)
            for line in (country.processes.logs / "egov-web.service.log").read_text().splitlines()
            if '"GET exchange/globalconf"' in line
        ]
        assert fetched and all(len(line["edge_request_id"]) == 32 for line in fetched)
        worker = json.loads(country.egov("health", "worker").stdout)
        assert worker["ok"] is True
        # Run right after collectstatic, as the first start does.
        checked = country.restored["check --deploy"]
        assert checked.returncode == 0, checked.stdout + checked.stderr
        settings = environment_file_read(country.host.path("/etc/egov/egov.env"))
        assert not {"EGOV_DEMO", "EGOV_INSECURE_HTTP", "SECRET_KEY", "DATABASE_URL"} & set(settings)
        # The data folder is the service user's only (docs/deployment.md, folders).
        data = country.host.path("/var/lib/egov")
        assert stat.S_IMODE(data.stat().st_mode) == 0o700


def test_a_citizen_applies_with_prefill_through_both_gateways(country: Country) -> None:
    with logs_on_failure(country.processes):
        number = country.application()

        personal_number = country.citizen["personal_number"]
        sent = [
            row
            for row in country.message_log("GW-PORTAL")
            if row.get("kind") == "request" and row.get("service", "").startswith(PERSON_SERVICE)
        ]
        assert sent, "the portal's gateway logged no request to the population register"
        (request,) = sent
        assert request["side"] == "client"
        assert request["client"] == PORTAL_CLIENT
        assert request["issue"] == SERVICE
        assert personal_number in request["user_id"]
        assert "prefill" in request["purposes"]
        received = [
            row
            for row in country.message_log("GW-REGISTRIES")
            if row.get("kind") == "request" and row.get("request_id") == request["request_id"]
        ]
        assert [(row["side"], row["client"], row["service"]) for row in received] == [
            ("provider", PORTAL_CLIENT, request["service"])
        ]
        assert number


def test_a_backup_of_the_running_instance_restores_into_a_fresh_database(
    country: Country,
) -> None:
    with logs_on_failure(country.processes):
        number = country.application()
        backups = country.root / "var/backups/egov"
        backups.mkdir(parents=True, mode=0o700)
        archive = backups / "egov.tar.gz"
        country.egov("--owner", "backup", "--output", str(archive))
        assert archive.is_file()

        # Another host (docs/backup-and-upgrades.md, "Restoring on another host"): the same
        # release, settings and credentials with its own paths and DATABASE_URL, an empty data
        # folder, and an empty database owned by the owner role.
        database = country.database
        name = f"{database.name}_restored"
        country.restored["databases"].append(name)
        database_create(name, owner=database.owner)
        second = country.scratch / "restored"
        shutil.copytree(country.root / "etc", second / "etc")
        shutil.copytree(country.root / "bin", second / "bin")
        (second / "var/lib/egov").mkdir(parents=True, mode=0o700)
        (second / "srv/egov/static").mkdir(parents=True)
        for credential, url in (
            ("database_url", database.app_url),
            ("database_url_owner", database.owner_url),
        ):
            write_private(
                second / "etc/egov/credentials" / credential,
                url.rsplit("/", 1)[0] + f"/{name}",
            )
        env_file = second / "etc/egov/egov.env"
        env_file.write_text(
            env_file.read_text(encoding="utf-8").replace(str(country.root), str(second)),
            encoding="utf-8",
        )
        operator = {
            **country.operator,
            "PATH": country.operator["PATH"].replace(str(country.root), str(second)),
            "EGOV_SCRATCH_ROOT": str(second),
            "EGOV_CREDENTIALS_DIR": str(second / "etc/egov/credentials"),
            "EGOV_ENVIRONMENT_FILE": str(env_file),
        }

        def egov(*arguments: str, check: bool = True) -> Any:
            return run(
                [*country.egov_run, *arguments],
                environment=operator,
                cwd=second,
                check=check,
                timeout=180,
            )

        egov("--owner", "restore", str(archive))
        found = egov(
            "shell",
            "-c",
            "from egov.cases.models import Application; "
            "print(list(Application.objects.values_list('number', 'service__code')))",
        )
        assert repr((number, SERVICE)) in found.stdout.strip().splitlines()[-1]
        # The restored message logs verify, and hold the prefill request the running
        # instance's gateways logged.
        exchange = second / "var/lib/egov/exchange"
        sent = {
            row["request_id"]
            for row in country.message_log("GW-PORTAL")
            if row.get("kind") == "request" and row.get("service", "").startswith(PERSON_SERVICE)
        }
        for code in GATEWAYS:
            log_dir = Path(json.loads((exchange / code / "gateway.json").read_text())["log_dir"])
            assert log_dir.is_relative_to(second), f"{code} logs to {log_dir} after the restore"
            issuing = second / "var/lib/egov/pki/issuing.cert.pem"
            verified = egov(
                "gateway", "verify-log", str(log_dir), "--ca", str(issuing), check=False
            )
            assert verified.returncode == 0, verified.stdout + verified.stderr
            lines = verified.stdout.splitlines()
            assert lines and all(line.startswith("OK ") for line in lines), lines
            restored = {
                json.loads(line).get("request_id")
                for path in log_dir.glob("*.jsonl")
                for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip()
            }
            assert sent and sent <= restored, (code, sent)
