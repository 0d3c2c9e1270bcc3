"""Benchmark: generating the base registries at scale on PostgreSQL, and looking a person up.

    .venv/bin/python bench/registry_scale.py [--persons 1000000] [--companies 100000] [--keep]

Creates a fresh PostgreSQL database (createdb on 127.0.0.1:5432, user postgres), migrates,
times `egov registry generate` (seconds, rows/s, peak RSS of the generating process) and then
2000 lookups of random persons through the population register's person service (the view
called in-process through Django's test client, with the gateway's headers): p50 and p99.

Targets (issue 4): 1 million persons and 100 000 companies with memory under 1 GiB; a lookup
by identification number in a few milliseconds at that size.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PYTHON, ROOT, base_env

POSTGRES_HOST = os.environ.get("BENCH_POSTGRES_HOST", "127.0.0.1")
POSTGRES_USER = os.environ.get("BENCH_POSTGRES_USER", "postgres")
LOOKUPS = 2000

LOOKUP = """
import json, logging, random, statistics, time
# Each in-process call would print its request line.
logging.getLogger("django_structlog").setLevel(logging.WARNING)
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import override_settings
with connection.cursor() as cursor:
    cursor.execute(
        "SELECT personal_number FROM registry_population_person ORDER BY random() LIMIT %s",
        [LOOKUPS],
    )
    numbers = [row[0] for row in cursor.fetchall()]
import tempfile
from pathlib import Path
from egov.core.exchange_files import provider_key_path
keys = Path(tempfile.mkdtemp())
provider_key_path(keys, settings.REGISTRY_PROVIDERS["population"]).write_text("bench-key")
headers = {
    "HTTP_X_EGOV_GATEWAY_KEY": "bench-key",
    "HTTP_X_ROAD_CLIENT": "BY/GOV/MVD/backoffice",
    "HTTP_X_ROAD_USERID": "BY-STAFF-1",
    "HTTP_X_EGOV_PURPOSES": '[{"code": "bench", "text": {}, "legal_basis": {}}]',
    "HTTP_X_ROAD_ID": "bench",
}
timings = []
with override_settings(ROOT_URLCONF="egov.registries.urls", EXCHANGE_PROVIDER_KEYS_DIR=keys):
    client = Client()
    for number in numbers[:50]:  # warm up connections and caches
        client.get(f"/registries/population/v1/persons/{number}", **headers)
    for number in numbers:
        started = time.perf_counter()
        response = client.get(f"/registries/population/v1/persons/{number}", **headers)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content
timings.sort()
# The lookup alone: the register's read of a person by number (the person with the address,
# then the documents), without the HTTP layer and without recording the access.
from egov.registries.population.selectors import person_get
reads = []
for number in numbers:
    started = time.perf_counter()
    assert person_get(personal_number=number) is not None
    reads.append((time.perf_counter() - started) * 1000)
reads.sort()
print(json.dumps({
    "lookups": len(timings),
    "p50_ms": timings[len(timings) // 2],
    "p99_ms": timings[int(len(timings) * 0.99) - 1],
    "read_p50_ms": reads[len(reads) // 2],
    "read_p99_ms": reads[int(len(reads) * 0.99) - 1],
}))
"""


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "egov.cli", *args],
        env=env,
        cwd=ROOT,
        check=True,
        text=True,
        stdout=subprocess.PIPE,
    )


def run(persons: int, companies: int, *, keep: bool = False) -> dict[str, Any]:
    """Generate ``persons`` and ``companies`` in a fresh database; return the figures."""
    database = f"egov_bench_registry_{os.getpid()}"
    url = f"postgres://{POSTGRES_USER}@{POSTGRES_HOST}:5432/{database}"
    subprocess.run(["createdb", "-h", POSTGRES_HOST, "-U", POSTGRES_USER, database], check=True)
    try:
        with tempfile.TemporaryDirectory(prefix="egov-bench-registry-") as data_dir:
            env = base_env(Path(data_dir))
            env.update(
                DATABASE_URL=url,
                PYTHONPATH=str(ROOT / "src"),
                ALLOWED_HOSTS="testserver,127.0.0.1,localhost",
            )
            _run(env, "migrate", "--skip-checks", "-v", "0")
            # ru_maxrss of children is the largest child so far: measure generation alone
            # in a child of its own, started after migrate has finished.
            started = time.monotonic()
            generator = subprocess.run(
                [
                    PYTHON, "-c",
                    "import resource, sys; from egov.cli import main; "
                    "main(['egov', 'registry', 'generate', '--persons', sys.argv[1], "
                    "'--companies', sys.argv[2], '--batch-size', '5000']); "
                    "print('maxrss', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)",
                    str(persons), str(companies),
                ],
                env=env, cwd=ROOT, check=True, text=True, stdout=subprocess.PIPE,
            )  # fmt: skip
            seconds = time.monotonic() - started
            rows_match = re.search(r"\((\d+) rows\)", generator.stdout)
            rows = int(rows_match.group(1)) if rows_match else 0
            rss_match = re.search(r"maxrss (\d+)", generator.stdout)
            peak_kib = int(rss_match.group(1)) if rss_match else 0
            children_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            lookup = subprocess.run(
                [
                    PYTHON, "-c",
                    "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
                    f"'egov.settings'); django.setup(); LOOKUPS = {LOOKUPS}\n" + LOOKUP,
                ],
                env=env, cwd=ROOT, check=True, text=True, stdout=subprocess.PIPE,
            )  # fmt: skip
            figures = json.loads(lookup.stdout.strip().splitlines()[-1])
    finally:
        if not keep:
            subprocess.run(
                ["dropdb", "-h", POSTGRES_HOST, "-U", POSTGRES_USER, "--if-exists", database],
                check=False,
            )
    return {
        "persons": persons,
        "companies": companies,
        "seconds": round(seconds, 1),
        "rows": rows,
        "rows_per_second": round(rows / seconds) if seconds else 0,
        "persons_per_second": round(persons / seconds) if seconds else 0,
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "peak_rss_children_mib": round(children_kib / 1024, 1),
        **{key: round(value, 2) if isinstance(value, float) else value
           for key, value in figures.items()},
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--companies", type=int, default=None)
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    options = parser.parse_args()
    companies = options.persons // 10 if options.companies is None else options.companies
    result = run(options.persons, companies, keep=options.keep)
    print(
        f"generate {result['persons']} persons, {result['companies']} companies: "
        f"{result['seconds']} s, {result['rows']} rows, {result['rows_per_second']} rows/s, "
        f"{result['persons_per_second']} persons/s, peak RSS {result['peak_rss_mib']} MiB"
    )
    print(
        f"person service call x{result['lookups']} (view, access recorded): "
        f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms"
    )
    print(
        f"person read by number x{result['lookups']}: "
        f"p50 {result['read_p50_ms']} ms, p99 {result['read_p99_ms']} ms"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
