"""Benchmark: applications submitted per second through the REST API, with every side effect
(the application, its number, its history, its background task), on SQLite and on
PostgreSQL; and the back office's queue page against a bare Django "hello" view served with
the same gunicorn settings, in the same run.

    .venv/bin/python bench/submit.py [--seconds 10] [--connections 16] [--skip-postgres]

Targets (issue 3): at least 200 submissions/s on PostgreSQL on a 2-core machine; the queue
page at least 0.15x of hello. A signed-in request to /healthz (session and user loaded, no view
work) is measured too: the floor any signed-in page can reach in this stack.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PYTHON, Result, base_env, free_port, table, wait_until_up, wrk

POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
SERVICE = "MVD-NO-CRIMINAL-RECORD"
ANSWERS = {
    "personal_number": "4150592M012PB5",
    "birth_date": "1992-05-15",
    "birth_place": "Мінск",
    "name_changed": False,
    "purpose": "employment",
    "delivery": "e_account",
    "email": "citizen@demo.egov.example",
}

# Prints a Bearer token for the demo citizen and a session cookie for an MVD clerk whose login
# passed the second factor, so wrk can call the API and open the queue page.
CREDENTIALS = """
import json, time
from django.contrib.sessions.backends.db import SessionStore
from egov.identity.api_auth import api_token_issue
from egov.identity.models import User
from egov.identity.selectors import SESSION_LOA
from egov.identity.services import SESSION_LOGIN_AT, SESSION_SEEN_AT
citizen = User.objects.get(email="citizen@demo.egov.example")
clerk = User.objects.get(email="clerk.mvd@demo.egov.example")
session = SessionStore()
session["_auth_user_id"] = str(clerk.pk)
session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
session["_auth_user_hash"] = clerk.get_session_auth_hash()
session[SESSION_LOA] = "substantial"
session[SESSION_LOGIN_AT] = session[SESSION_SEEN_AT] = time.time()
session.create()
print(json.dumps({
    "token": api_token_issue(user=citizen, name="bench", assurance="substantial"),
    "session": session.session_key,
}))
"""

COUNTS = """
import json
from django_tasks_db.models import DBTaskResult
from egov.cases.models import Application, ApplicationEvent
print(json.dumps({
    "applications": Application.objects.count(),
    "events": ApplicationEvent.objects.count(),
    "tasks": DBTaskResult.objects.count(),
}))
"""

LUA = """
local counter = 0
local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end
function init(args)
  math.randomseed(os.time() * 100 + id)
end
function request()
  counter = counter + 1
  local key = string.format("bench-%d-%d-%d", id, counter, math.random(1, 1000000000))
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer TOKEN",
    ["Idempotency-Key"] = key,
  }, BODY)
end
"""


def _shell(egov: list[str], env: dict[str, str], code: str) -> dict:
    output = subprocess.run(
        [*egov, "shell", "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    return dict(json.loads(output.strip().splitlines()[-1]))


def _postgres(action: str, name: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if action == "create":
            connection.execute(f'CREATE DATABASE "{name}"')


def run_database(label: str, env: dict[str, str], arguments: argparse.Namespace) -> list[Result]:
    egov = [PYTHON, "-m", "egov.cli"]
    print(f"preparing a fresh demo database on {label} ...", flush=True)
    subprocess.run([*egov, "demo", "--no-serve", "-v", "0"], env=env, check=True)
    credentials = _shell(egov, env, CREDENTIALS)
    # ASCII only: wrk's Lua reads no \u escapes, JSON's own \u escapes pass through.
    body = json.dumps(json.dumps({"service": SERVICE, "answers": ANSWERS}))
    script = Path(env["EGOV_DATA_DIR"]) / "submit.lua"
    script.write_text(LUA.replace("TOKEN", credentials["token"]).replace("BODY", body))
    port = free_port()
    server = subprocess.Popen(
        [*egov, "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(arguments.workers)],
        env=env,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(f"{base}/healthz")
        before = _shell(egov, env, COUNTS)
        run = {"seconds": arguments.seconds, "connections": arguments.connections}
        submit = wrk(
            f"submit via API ({label})",
            f"{base}/api/v1/me/applications/",
            script=script,
            warm_up=False,
            **run,
        )
        after = _shell(egov, env, COUNTS)
        made = after["applications"] - before["applications"]
        print(
            f"{label}: {made} applications, {after['events'] - before['events']} history "
            f"events, {after['tasks'] - before['tasks']} background tasks written; "
            f"{submit.errors} failed requests",
            flush=True,
        )
        queue = wrk(
            f"queue page /en/office/ ({label})",
            f"{base}/en/office/",
            headers=(f"Cookie: sessionid={credentials['session']}",),
            **run,
        )
        # The floor for any signed-in request here: session and user loaded, no view work.
        floor = wrk(
            f"signed-in /healthz ({label})",
            f"{base}/healthz",
            headers=(f"Cookie: sessionid={credentials['session']}",),
            **run,
        )
        return [submit, queue, floor]
    finally:
        server.terminate()
        server.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--skip-postgres", action="store_true")
    arguments = parser.parse_args()

    results: list[Result] = []
    sqlite_env = base_env(Path(tempfile.mkdtemp(prefix="egov-bench-sqlite-")))
    results += run_database("SQLite", sqlite_env, arguments)

    if not arguments.skip_postgres:
        name = f"egov_bench_{os.getpid()}"
        _postgres("create", name)
        pg_env = base_env(Path(tempfile.mkdtemp(prefix="egov-bench-pg-")))
        pg_env["DATABASE_URL"] = POSTGRES.rsplit("/", 1)[0] + f"/{name}"
        try:
            results += run_database("PostgreSQL", pg_env, arguments)
        finally:
            _postgres("drop", name)

    hello_port = free_port()
    hello_server = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "bench.hello_app",
            "--bind",
            f"127.0.0.1:{hello_port}",
            "--workers",
            str(arguments.workers),
        ],
        env=sqlite_env,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{hello_port}/hello")
        hello = wrk(
            "bare Django hello",
            f"http://127.0.0.1:{hello_port}/hello",
            seconds=arguments.seconds,
            connections=arguments.connections,
        )
    finally:
        hello_server.terminate()
        hello_server.wait(timeout=20)
    print(
        f"\n{arguments.connections} connections, {arguments.seconds} s each, "
        "same gunicorn settings for every server\n"
    )
    print(table([hello, *results], hello))
    for result in results:
        if result.name.startswith("submit") and "PostgreSQL" in result.name:
            print(
                f"\nsubmissions/s on PostgreSQL = {result.requests_per_second:.0f} (target >= 200)"
            )
        if result.name.startswith("queue"):
            ratio = result.requests_per_second / hello.requests_per_second
            print(f"{result.name}: {ratio:.2f}x hello (target >= 0.15)")


if __name__ == "__main__":
    main()
