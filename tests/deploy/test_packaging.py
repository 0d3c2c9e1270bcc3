"""A production install needs neither Node.js nor the test tools (ADR 0009, docs/deployment.md):
the release's sdist and wheel carry the built front end, the compiled translations, the
templates, migrations, schemas and data files, and no tests; requirements/production.txt is
the runtime dependencies of pyproject.toml at lock.txt's versions, without a test or lint
tool, and covers every package egov imports.

The release is built as `make wheel` builds it (`python -m build`: the sdist, then the wheel
from the unpacked sdist) from a copy of this working tree's files (tracked or new, not
ignored) and the built front end. The build backend's requirements (setuptools, wheel) are
development dependencies in this virtualenv, so the build needs no package index
(`--no-isolation`): tests talk to nothing beyond loopback.
The wheel is then installed, offline, into an empty virtualenv that holds only the packages
of requirements/production.txt (linked from this virtualenv), and run there.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "egov"
FRONT_END = PACKAGE / "static" / "egov" / "dist"
PRODUCTION = ROOT / "requirements" / "production.txt"
LOCK = ROOT / "requirements" / "lock.txt"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
VERSION = PYPROJECT["project"]["version"]
#: Tools for tests, lint, types, builds and locks: never on a production server.
DEVELOPMENT_ONLY = {
    "pytest",
    "pytest-django",
    "factory-boy",
    "faker",
    "hypothesis",
    "playwright",
    "aiosmtpd",
    "ruff",
    "mypy",
    "django-stubs",
    "import-linter",
    "pip-tools",
    "build",
    "polib",
    "openapi-spec-validator",
    "coverage",
    "greenlet",
}
BUILD_TIMEOUT = 300

if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
    # The release is the same whatever the suite's database: built and installed once, in the
    # suite's SQLite pass (CI runs both; the production test runs in the PostgreSQL one).
    pytest.skip(
        "runs once, in the suite's SQLite pass: building and installing the release does not "
        "depend on the database",
        allow_module_level=True,
    )


def source_files() -> list[Path]:
    """The working tree's files that a commit would hold (tracked or new, not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode()
    return [Path(name) for name in listed.split("\0") if name and (ROOT / name).is_file()]


def copy_tree(destination: Path, *, front_end: bool) -> Path:
    for relative in source_files():
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / relative, target)
    if front_end:
        shutil.copytree(FRONT_END, destination / FRONT_END.relative_to(ROOT), dirs_exist_ok=True)
    else:
        shutil.rmtree(destination / FRONT_END.relative_to(ROOT), ignore_errors=True)
    return destination


def build(source: Path, output: Path, *what: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--no-isolation",
            *what,
            "--outdir",
            str(output),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )


@dataclass
class Release:
    wheel: Path
    sdist: Path

    def wheel_names(self) -> set[str]:
        with zipfile.ZipFile(self.wheel) as archive:
            return set(archive.namelist())

    def sdist_names(self) -> set[str]:
        with tarfile.open(self.sdist) as archive:
            prefix = f"egov-{VERSION}/"
            return {member.name.removeprefix(prefix) for member in archive.getmembers()}


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Release:
    if not (FRONT_END / "app.css").exists():
        pytest.fail(f"{FRONT_END} is not built: run `make frontend` (the release needs it)")
    folder = tmp_path_factory.mktemp("release")
    source = copy_tree(folder / "source", front_end=True)
    result = build(source, folder / "dist")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return Release(
        wheel=folder / "dist" / f"egov-{VERSION}-py3-none-any.whl",
        sdist=folder / "dist" / f"egov-{VERSION}.tar.gz",
    )


# --- what the release holds ---------------------------------------------------------------


def package_files() -> set[str]:
    """Every file of the package in the source, as the wheel names it (egov/...)."""
    return {
        str(relative.relative_to("src"))
        for relative in source_files()
        if relative.parts[:2] == ("src", "egov")
        and "__pycache__" not in relative.parts
        and relative.suffix != ".pyc"
    } | {str(path.relative_to(ROOT / "src")) for path in FRONT_END.rglob("*") if path.is_file()}


def test_the_wheel_holds_every_file_of_the_package_and_nothing_else(release: Release) -> None:
    names = release.wheel_names()
    package = {name for name in names if not name.startswith(f"egov-{VERSION}.dist-info/")}
    missing = package_files() - package
    assert not missing, f"not in the wheel: {sorted(missing)[:20]}"
    assert package == package_files(), sorted(package - package_files())[:20]


def test_the_wheel_carries_the_built_front_end_translations_migrations_and_schemas(
    release: Release,
) -> None:
    names = release.wheel_names()
    with zipfile.ZipFile(release.wheel) as archive:
        assert archive.read("egov/static/egov/dist/app.css") == (FRONT_END / "app.css").read_bytes()
    for built in ("app.css", "govuk-frontend.min.js", "init.js"):
        assert f"egov/static/egov/dist/{built}" in names
    for language in ("be", "ru", "en"):
        assert f"egov/locale/{language}/LC_MESSAGES/django.mo" in names
    migrations = {str(path.relative_to(ROOT / "src")) for path in PACKAGE.rglob("migrations/0*.py")}
    assert migrations and migrations <= names
    schemas = {str(path.relative_to(ROOT / "src")) for path in PACKAGE.rglob("schema/*.json")}
    assert "egov/catalog/schema/service-definition.schema.json" in schemas <= names
    templates = {str(path.relative_to(ROOT / "src")) for path in PACKAGE.rglob("templates/**/*.*")}
    assert "egov/templates/base.html" in templates <= names
    data = {str(path.relative_to(ROOT / "src")) for path in PACKAGE.rglob("data/**/*.yaml")}
    assert "egov/exchange/central/data/demo_exchange.yaml" in data <= names


def test_the_wheel_holds_no_tests_and_no_build_leftovers(release: Release) -> None:
    for name in release.wheel_names():
        parts = name.split("/")
        assert parts[0] in ("egov", f"egov-{VERSION}.dist-info"), name
        assert "tests" not in parts and not parts[-1].startswith(("test_", "conftest")), name
        assert "__pycache__" not in parts and not name.endswith(".pyc"), name
        assert "node_modules" not in parts, name


def test_the_sdist_is_a_release_an_operator_installs_from(release: Release) -> None:
    names = release.sdist_names()
    assert "src/egov/static/egov/dist/app.css" in names
    assert "src/egov/locale/be/LC_MESSAGES/django.mo" in names
    assert "tools/egov_build.py" in names  # the wheel is built from it
    assert "requirements/production.txt" in names
    assert "CHANGELOG.md" in names
    for path in (ROOT / "deploy").rglob("*"):
        if path.is_file() and path.relative_to(ROOT) in set(source_files()):
            assert str(path.relative_to(ROOT)) in names, path
    assert "deploy/systemd/egov-web.service" in names
    assert not any(name.startswith("tests/") for name in names)
    assert "requirements/lock.txt" not in names


def test_no_wheel_or_sdist_without_the_built_front_end(tmp_path: Path) -> None:
    source = copy_tree(tmp_path / "source", front_end=False)
    # The backend's hooks refuse before setuptools runs: no build environment is needed.
    for what in ("--wheel", "--sdist"):
        result = build(source, tmp_path / "dist", what, "--skip-dependency-check")
        assert result.returncode != 0, what
        assert "build the front end first" in result.stdout + result.stderr, what
    assert not (tmp_path / "dist").exists() or not list((tmp_path / "dist").iterdir())


# --- requirements/production.txt --------------------------------------------------------------


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line)
        if match:
            found[canonicalize_name(match[1])] = match[2]
    return found


def runtime_closure() -> set[str]:
    """pyproject's [project] dependencies and everything they need, from the installed
    packages' metadata (the extras asked for, e.g. psycopg[binary], included)."""
    seen: set[str] = set()
    pending = [Requirement(text) for text in PYPROJECT["project"]["dependencies"]]
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        extras = set(requirement.extras)
        key = f"{name}[{','.join(sorted(extras))}]"
        if key in seen:
            continue
        seen.add(key)
        for text in metadata.requires(name) or []:
            needed = Requirement(text)
            if needed.marker is None or any(
                needed.marker.evaluate({"extra": extra}) for extra in [*extras, ""]
            ):
                pending.append(needed)
    return {key.partition("[")[0] for key in seen}


def test_production_requirements_hold_no_test_or_lint_tool() -> None:
    production = set(pins(PRODUCTION))
    development = {
        canonicalize_name(Requirement(text).name)
        for text in PYPROJECT["project"]["optional-dependencies"]["dev"]
    }
    assert not production & (DEVELOPMENT_ONLY | development)
    assert not any(name.startswith(("pytest", "types-")) for name in production)


def test_production_requirements_are_the_runtime_dependencies_at_the_locked_versions() -> None:
    production = pins(PRODUCTION)
    locked = pins(LOCK)
    assert set(production) == runtime_closure(), "regenerate it: make lock-production"
    assert {name: locked.get(name) for name in production} == production
    for text in PYPROJECT["project"]["dependencies"]:
        requirement = Requirement(text)
        assert requirement.specifier.contains(production[canonicalize_name(requirement.name)])


def imported_modules() -> set[str]:
    """Top-level modules egov's code imports, except under `if TYPE_CHECKING:`."""
    modules: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        typing_only: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                typing_only |= {id(child) for child in ast.walk(node)}
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.Import):
                modules |= {alias.name.partition(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.partition(".")[0])
    return modules - set(sys.stdlib_module_names) - {"egov", "__future__"}


def test_every_package_egov_imports_is_a_production_requirement() -> None:
    production = set(pins(PRODUCTION))
    providers = metadata.packages_distributions()
    uncovered = {}
    for module in imported_modules():
        distributions = {canonicalize_name(name) for name in providers.get(module, [])}
        if not distributions & production:
            uncovered[module] = sorted(distributions) or "not installed"
    assert not uncovered, uncovered
    assert {"django", "gunicorn", "aiohttp", "cryptography"} <= {
        canonicalize_name(name)
        for module in imported_modules()
        for name in providers.get(module, [])
    }


# --- the production install -------------------------------------------------------------------


def production_environment(folder: Path) -> Path:
    """An empty virtualenv holding only requirements/production.txt's packages, linked from
    this virtualenv (offline: the same files pip would install)."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(folder)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    site = next((folder / "lib").glob("python3*/site-packages"))
    for name in pins(PRODUCTION):
        distribution = metadata.distribution(name)
        for file in distribution.files or []:
            source = Path(str(distribution.locate_file(file))).resolve()
            if ".." in file.parts or not source.is_file():
                continue  # scripts outside site-packages: the server runs `egov` only
            target = site / file
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                target.symlink_to(source)
    return folder


@pytest.fixture(scope="module")
def installed(release: Release, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = production_environment(tmp_path_factory.mktemp("server") / "venv")
    # This virtualenv's pip installs into the other one (it has none of its own).
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "--python", str(folder / "bin" / "python")),
            *("install", "--quiet", "--no-index", "--no-deps", str(release.wheel)),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    yield folder


def run_installed(venv: Path, folder: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("EGOV_", "DJANGO_", "PYTHON")) and name != "DATABASE_URL"
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="egov.settings",
        SECRET_KEY="packaging-" + "x" * 50,
        EGOV_DEMO="true",
        EGOV_DATA_DIR=str(folder / "data"),
        EGOV_STATIC_ROOT=str(folder / "static"),
    )
    return subprocess.run(
        [*arguments], cwd=folder, env=environment, capture_output=True, text=True, timeout=300
    )


def test_the_wheel_runs_with_the_production_requirements_alone(
    installed: Path, tmp_path: Path
) -> None:
    python = str(installed / "bin" / "python")
    # Not this checkout: the installed package, without any test tool.
    probe = run_installed(
        installed,
        tmp_path,
        python,
        "-c",
        "import egov, importlib.util as u; print(egov.__file__); "
        "print(all(u.find_spec(m) is None for m in ('pytest', 'ruff', 'mypy', 'playwright')))",
    )
    assert probe.returncode == 0, probe.stderr
    location, no_tools = probe.stdout.split()
    assert location.startswith(str(installed)), location
    assert no_tools == "True"

    # Every module of egov imports: no runtime import of a package the server lacks.
    every_module = (
        "import importlib, pkgutil, django, egov; django.setup(); "
        "names = [m.name for m in pkgutil.walk_packages(egov.__path__, 'egov.')]; "
        "[importlib.import_module(name) for name in names]; print(len(names))"
    )
    imported = run_installed(installed, tmp_path, python, "-c", every_module)
    assert imported.returncode == 0, imported.stderr[-3000:]
    assert int(imported.stdout.split()[-1]) > 100

    check = run_installed(installed, tmp_path, str(installed / "bin" / "egov"), "check")
    assert check.returncode == 0, check.stderr[-3000:]


def test_collectstatic_of_the_installed_wheel_serves_the_built_front_end(
    installed: Path, tmp_path: Path
) -> None:
    result = run_installed(
        installed, tmp_path, str(installed / "bin" / "egov"), "collectstatic", "--noinput"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    collected = {path.name for path in (tmp_path / "static" / "egov" / "dist").iterdir()}
    assert "app.css" in collected
    assert any(re.fullmatch(r"app\.[0-9a-f]{12}\.css", name) for name in collected), collected
