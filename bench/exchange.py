"""Benchmark: a registry service called directly and through the gateway pair.

Starts the real processes on loopback, on a fresh PostgreSQL database (or SQLite with
``--sqlite``): the central registry (``egov serve``), the registries' web process
(``EGOV_ROOT_URLCONF=egov.registries.urls egov serve``) and two ``egov gateway run`` processes,
set up by ``egov exchange setup`` with the platform PKI. Then, with wrk at 16 connections and
at one:

  direct   wrk → registries' web: GET /registries/population/v1/persons/<personal number>
           with the provider's key and the purposes, as GW-REGISTRIES sends them
  gateway  wrk → nginx → GW-PORTAL's TLS client side, presenting the portal's certificate
           (connection type HTTPS) → mutual TLS → GW-REGISTRIES → registries' web
           (every message signed, verified and written to both message logs)

wrk cannot present a client certificate, so a local nginx (keep-alive and TLS sessions
reused towards the gateway) holds the portal's certificate, as an information system's own
front would; its cost counts against the gateways. Both rows ask for the same persons (a wrk
script walks a list of personal numbers) and both record the access in the register, so the
difference is the exchange. Prints requests/s, p50, p99, the ratio, the latency the exchange
adds and the CPU each process spends per call. Targets: ≥ 0.65x direct throughput at 16
connections, ≤ 3 ms added at p50 at one connection.

Then (unless ``--scale-persons 0``) times ``egov registry generate`` for 1 million persons on
PostgreSQL and a lookup by personal number at that size (bench/registry_scale.py).

    .venv/bin/python bench/exchange.py [--seconds 10] [--scale-persons 1000000]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PYTHON, ROOT, Result, base_env, free_port, wait_until_up, wrk
from egov.core.exchange_files import client_certificate_paths, provider_key_path

DATABASE = "egov_bench_exchange"
CLIENT = "BY/GOV/NCES/portal"
PROVIDER = "BY/GOV/MVD/population"
SERVICE = f"{PROVIDER}/person"
PURPOSE = "prefill"
CALLER_HEADERS = ("X-Road-UserId: BY4150592M012PB5", f"X-Egov-Purpose: {PURPOSE}")


def _purposes_in_effect(central_url: str) -> str:
    """``X-Egov-Purposes`` as GW-REGISTRIES sets it for the portal's prefill reads, from the
    published global configuration."""
    with urllib.request.urlopen(central_url, timeout=10) as answer:
        envelope = json.load(answer)
    content = json.loads(base64.b64decode(envelope["content"]))
    for right in content["access_rights"]:
        if (right["client"], right["service"]) == (CLIENT, SERVICE):
            chosen = [item for item in right["purposes"] if item["code"] == PURPOSE]
            return json.dumps(chosen, ensure_ascii=True, separators=(",", ":"))
    raise SystemExit(f"the configuration grants {CLIENT} no right to {SERVICE}")


def _nginx(data: Path, port: int, upstream: int) -> list[str]:
    """nginx on ``port`` forwarding to GW-PORTAL's TLS client side with the portal's
    certificate (what wrk cannot present)."""
    if shutil.which("nginx") is None:
        raise SystemExit("nginx is needed: apt-get install nginx")
    certificate, key = client_certificate_paths(data / "exchange" / "clients", CLIENT)
    prefix = data / "nginx"
    (prefix / "logs").mkdir(parents=True, exist_ok=True)
    ca = prefix / "ca.pem"
    ca.write_text(
        (data / "pki" / "issuing.cert.pem").read_text()
        + (data / "pki" / "root.cert.pem").read_text()
    )
    config = prefix / "nginx.conf"
    config.write_text(
        f"""daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {prefix}/body;
  proxy_temp_path {prefix}/proxy;
  upstream gateway {{ server 127.0.0.1:{upstream}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass https://gateway;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_ssl_certificate {certificate};
      proxy_ssl_certificate_key {key};
      proxy_ssl_trusted_certificate {ca};
      proxy_ssl_verify on;
      proxy_ssl_name localhost;
      proxy_ssl_session_reuse on;
    }}
  }}
}}
"""
    )
    return ["nginx", "-p", str(prefix), "-c", str(config)]


def _egov(arguments: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [PYTHON, "-m", "egov.cli", *arguments], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"egov {' '.join(arguments)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _script(path: Path, prefix: str, personal_numbers: list[str]) -> Path:
    """A wrk script that walks the list of persons, one path per request."""
    lines = ",\n".join(f'"{prefix}{number}"' for number in personal_numbers)
    path.write_text(
        "local paths = {\n" + lines + "\n}\nlocal i = 0\n"
        "request = function()\n  i = (i % #paths) + 1\n"
        '  return wrk.format("GET", paths[i])\nend\n'
    )
    return path


def _cpu_seconds(pid: int) -> float:
    """CPU time of a process and its children (gunicorn's workers), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _start(arguments: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [PYTHON, "-m", "egov.cli", *arguments],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def exchange(arguments: argparse.Namespace) -> list[Result]:
    data = Path(tempfile.mkdtemp(prefix="egov-bench-exchange-"))
    env = base_env(data)
    # No collectstatic: the web process serves only the exchange's paths here.
    env["EGOV_STATICFILES_STORAGE"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
    if not arguments.sqlite:
        subprocess.run(
            ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DATABASE], check=False
        )
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DATABASE], check=True)
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DATABASE}"
    names = ("web", "registries", "pc", "pct", "ps", "ph", "rc", "rct", "rs", "rh", "nginx")
    ports = {name: free_port() for name in names}
    print(
        f"setting up in {data} ({'SQLite' if arguments.sqlite else 'PostgreSQL'}) ...", flush=True
    )
    _egov(["migrate", "--verbosity", "0"], env)
    _egov(
        [
            "registry",
            "generate",
            "--persons",
            str(arguments.persons),
            "--companies",
            str(arguments.persons // 10),
            "--demo-people",
        ],
        env,
    )
    _egov(
        [
            "exchange",
            "setup",
            "--file",
            str(ROOT / "src/egov/exchange/central/data/demo_exchange.yaml"),
            "--registries-url",
            f"http://127.0.0.1:{ports['registries']}",
            "--central-url",
            f"http://127.0.0.1:{ports['web']}/exchange/globalconf",
            "--ports",
            json.dumps(
                {
                    "GW-PORTAL": {
                        "client": ports["pc"],
                        "client_tls": ports["pct"],
                        "server": ports["ps"],
                        "health": ports["ph"],
                    },
                    "GW-REGISTRIES": {
                        "client": ports["rc"],
                        "client_tls": ports["rct"],
                        "server": ports["rs"],
                        "health": ports["rh"],
                    },
                }
            ),
        ],
        env,
    )
    numbers = json.loads(
        _egov(
            [
                "shell",
                "-c",
                (
                    "import json; from django.db import connection\n"
                    "with connection.cursor() as c:\n"
                    "    c.execute('SELECT personal_number FROM registry_population_person'\n"
                    "              ' ORDER BY id LIMIT 1000')\n"
                    "    print(json.dumps([row[0] for row in c.fetchall()]))"
                ),
            ],
            env,
        )
        .strip()
        .splitlines()[-1]
    )
    key = provider_key_path(data / "exchange" / "provider-keys", PROVIDER).read_text().strip()
    registries_env = {**env, "EGOV_ROOT_URLCONF": "egov.registries.urls"}
    processes = [
        _start(["serve", "--bind", f"127.0.0.1:{ports['web']}", "--workers", "1"], env),
        _start(
            [
                "serve",
                "--bind",
                f"127.0.0.1:{ports['registries']}",
                "--workers",
                "3",
                "--threads",
                "4",
            ],
            registries_env,
        ),
        _start(["gateway", "run", "GW-PORTAL"], env),
        _start(["gateway", "run", "GW-REGISTRIES"], env),
        subprocess.Popen(
            _nginx(data, ports["nginx"], ports["pct"]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    ]
    try:
        wait_until_up(f"http://127.0.0.1:{ports['web']}/healthz")
        wait_until_up(f"http://127.0.0.1:{ports['pc']}/listClients")
        wait_until_up(f"http://127.0.0.1:{ports['rc']}/listClients")
        # Through nginx to the TLS client side: the portal's certificate is accepted.
        wait_until_up(f"http://127.0.0.1:{ports['nginx']}/listClients")
        purposes = _purposes_in_effect(f"http://127.0.0.1:{ports['web']}/exchange/globalconf")
        direct_headers = (
            "X-Road-UserId: BY4150592M012PB5",
            f"X-Egov-Purposes: {purposes}",
            f"X-Egov-Gateway-Key: {key}",
            f"X-Road-Client: {CLIENT}",
            f"X-Road-Service: {SERVICE}",
            "X-Road-Id: bench-direct",
        )
        direct_script = _script(data / "direct.lua", "/registries/population/v1/persons/", numbers)
        through_headers = (*CALLER_HEADERS, f"X-Road-Client: {CLIENT}")
        through_script = _script(data / "gateway.lua", "/r1/BY/GOV/MVD/population/person/", numbers)
        watched = {
            "registries": processes[1].pid,
            "GW-PORTAL": processes[2].pid,
            "GW-REGISTRIES": processes[3].pid,
            "nginx": processes[4].pid,
        }
        runs = {
            "registry, direct": (ports["registries"], direct_headers, direct_script),
            "through gateways (TLS, cert)": (ports["nginx"], through_headers, through_script),
        }
        for port, headers, script in runs.values():  # warm both paths up
            wrk(
                "warm-up",
                f"http://127.0.0.1:{port}/",
                seconds=2,
                headers=headers,
                script=script,
                warm_up=False,
            )
        results = []
        # 16 connections (the figures the targets are about), then one connection: the time
        # the exchange itself adds to a call when nothing waits in a queue.
        for connections, seconds in ((16, arguments.seconds), (1, max(3, arguments.seconds // 2))):
            for name, (port, headers, script) in runs.items():
                before = {label: _cpu_seconds(pid) for label, pid in watched.items()}
                result = wrk(
                    f"{name}, {connections} conn.",
                    f"http://127.0.0.1:{port}/",
                    connections=connections,
                    seconds=seconds,
                    headers=headers,
                    script=script,
                    warm_up=False,
                )
                calls = result.requests_per_second * seconds
                cpu = ", ".join(
                    f"{label} {(_cpu_seconds(pid) - before[label]) / calls * 1000:.2f}"
                    for label, pid in watched.items()
                )
                print(f"{result.name:<32} CPU ms per call: {cpu}", flush=True)
                results.append(result)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    logs = data / "exchange"
    verified = subprocess.run(
        [PYTHON, "-m", "egov.cli", "gateway", "verify-log", str(logs / "GW-PORTAL" / "messagelog")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    print(verified.stdout.strip())
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument(
        "--persons", type=int, default=20000, help="persons in the register for the exchange run"
    )
    parser.add_argument("--sqlite", action="store_true", help="run the exchange part on SQLite")
    parser.add_argument(
        "--scale-persons",
        type=int,
        default=1_000_000,
        help="persons for the generation/lookup timing on PostgreSQL (0 skips it)",
    )
    arguments = parser.parse_args()
    os.chdir(ROOT)
    results = exchange(arguments)
    print()
    print(f"{'':<32} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'x direct':>9}")
    for index, result in enumerate(results):
        direct = results[index - index % 2]
        print(
            f"{result.name:<32} {result.requests_per_second:>9.1f} {result.p50_ms:>8.2f} "
            f"{result.p99_ms:>8.2f} {result.errors:>7d} "
            f"{result.requests_per_second / direct.requests_per_second:>9.2f}"
        )
    direct, through, alone_direct, alone_through = results
    ratio = through.requests_per_second / direct.requests_per_second
    print(
        f"\nat 16 connections: {ratio:.2f}x direct throughput (target >= 0.65x); added latency"
        f" p50 {through.p50_ms - direct.p50_ms:+.2f} ms,"
        f" p99 {through.p99_ms - direct.p99_ms:+.2f} ms"
        f"\nat 1 connection: added latency"
        f" p50 {alone_through.p50_ms - alone_direct.p50_ms:+.2f} ms (target <= 3),"
        f" p99 {alone_through.p99_ms - alone_direct.p99_ms:+.2f} ms"
    )
    if arguments.scale_persons:
        from bench import registry_scale

        print(
            f"\nregistry at scale: {arguments.scale_persons} persons on PostgreSQL ...", flush=True
        )
        figures = registry_scale.run(arguments.scale_persons, arguments.scale_persons // 10)
        for name, value in figures.items():
            print(f"  {name:<32} {value}")


if __name__ == "__main__":
    main()
