"""The shipped nginx front (deploy/nginx/) in front of a real gunicorn serving egov: slow
clients are cut off at the edge and never tie up gunicorn, oversized bodies are refused
before they reach it, and the forwarded headers are nginx's own.

nginx runs from the shipped files with only ports and paths replaced, as an ordinary user
where possible (as root, its workers run as the same user so they can read the test's files).
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "nginx"
NGINX = Path("/usr/sbin/nginx")
SERVER_NAME = "egov.example.by"
SLOW_CLIENTS = 24
#: The shipped header timeout (egov.conf: client_header_timeout 10s), with room to spare.
CUT_OFF_WITHIN = 40.0
UPLOAD_LIMIT = 60 * 1024 * 1024

if not NGINX.exists():
    if os.environ.get("CI") == "true":
        pytest.fail(f"{NGINX} is missing: .ci/run installs nginx", pytrace=False)
    pytest.skip(f"{NGINX} is missing (apt-get install nginx)", allow_module_level=True)


@dataclass
class Front:
    https_port: int
    http_port: int
    certificate: Path
    request_record: Path
    folder: Path
    gunicorn_log: Path = field(default_factory=Path)

    def requests_seen(self) -> list[str]:
        if not self.request_record.exists():
            return []
        return self.request_record.read_text(encoding="utf-8").splitlines()

    def tls(self, timeout: float = 5.0) -> ssl.SSLSocket:
        context = ssl.create_default_context(cafile=str(self.certificate))
        raw = socket.create_connection(("127.0.0.1", self.https_port), timeout=timeout)
        return context.wrap_socket(raw, server_hostname=SERVER_NAME)


def self_signed(folder: Path, server_name: str = SERVER_NAME) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, server_name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(server_name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certificate_path, key_path = folder / "egov.crt", folder / "egov.key"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certificate_path, key_path


def substituted(text: str, replacements: dict[str, str]) -> str:
    """The shipped text with each placeholder replaced; a placeholder the shipped file no longer
    has fails here, so the test keeps up with the file."""
    for old, new in replacements.items():
        assert old in text, f"the shipped configuration no longer has {old!r}"
        text = text.replace(old, new)
    return text


def nginx_configuration(
    folder: Path,
    *,
    http: int,
    https: int,
    upstream: int,
    server_name: str = SERVER_NAME,
    tls: tuple[Path, Path] | None = None,
    static: Path | None = None,
) -> Path:
    """The shipped site in a main configuration like Debian's, with only ports and paths
    replaced: ``tls`` (certificate chain, key) and ``static`` (the collected static root)
    default to a self-signed certificate and a static folder of two files."""
    certificate, key = tls or self_signed(folder)
    if static is None:
        static = folder / "static"
        (static / "egov").mkdir(parents=True)
        (static / "egov" / "app.0123456789ab.css").write_text("body{}", encoding="utf-8")
        (static / "robots.txt").write_text("User-agent: *\n", encoding="utf-8")
    proxy = folder / "egov-proxy.conf"
    shutil.copyfile(DEPLOY / "egov-proxy.conf", proxy)
    names = (
        {}
        if server_name == SERVER_NAME
        else {f"server_name {SERVER_NAME};": f"server_name {server_name};"}
    )
    site = substituted(
        (DEPLOY / "egov.conf").read_text(encoding="utf-8"),
        {
            **names,
            "    listen [::]:80;\n": "",
            "    listen [::]:80 default_server;\n": "",
            "    listen [::]:443 ssl http2 default_server;\n": "",
            "    listen [::]:443 ssl http2;\n": "",
            "listen 80;": f"listen 127.0.0.1:{http};",
            "listen 80 default_server;": f"listen 127.0.0.1:{http} default_server;",
            "listen 443 ssl http2;": f"listen 127.0.0.1:{https} ssl http2;",
            "listen 443 ssl http2 default_server;": f"listen 127.0.0.1:{https} ssl http2 "
            "default_server;",
            "/etc/ssl/egov/egov.crt": str(certificate),
            "/etc/ssl/private/egov.key": str(key),
            "/etc/nginx/snippets/egov-proxy.conf": str(proxy),
            "/srv/egov/static/": f"{static}/",
            "/var/log/nginx/egov-access.log": str(folder / "egov-access.log"),
            "server 127.0.0.1:8000": f"server 127.0.0.1:{upstream}",
        },
    )
    (folder / "egov.conf").write_text(site, encoding="utf-8")
    for temporary in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / temporary).mkdir()
    # What Debian's /etc/nginx/nginx.conf gives the site, with the machine's paths replaced.
    user = "user root root;\n" if os.geteuid() == 0 else ""
    main = folder / "nginx.conf"
    main.write_text(
        f"""{user}worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log info;
events {{ worker_connections 256; }}
http {{
    sendfile on;
    tcp_nopush on;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
    ssl_prefer_server_ciphers on;
    access_log {folder}/access.log;
    gzip on;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/egov.conf;
}}
""",
        encoding="utf-8",
    )
    return main


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(log.read_text(encoding="utf-8", errors="replace")[-3000:])
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nothing listens on {port}")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Front]:
    folder = tmp_path_factory.mktemp("front")
    http, https, upstream = free_port(), free_port(), free_port()
    record = folder / "requests.txt"
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("EGOV_") and name not in ("DATABASE_URL", "SECRET_KEY")
    }
    environment.update(
        EGOV_DATA_DIR=str(folder / "var"),
        SECRET_KEY="nginx-front-" + "x" * 40,
        ALLOWED_HOSTS=SERVER_NAME,
        EGOV_BASE_URL=f"https://{SERVER_NAME}",
        EGOV_EXCHANGE_GATEWAY_URL="https://127.0.0.1:8090",
        EGOV_PKI_KEY_PASSPHRASE="test-pki-key-passphrase",
        # nginx, on this host, is the one proxy whose forwarded headers count.
        EGOV_TRUSTED_PROXIES="127.0.0.1",
        EGOV_PROXY_COUNT="1",
        EGOV_LOG_FORMAT="json",
        # gunicorn's own lines (its start) too, to see them rendered as JSON.
        EGOV_SERVER_LOG_LEVEL="info",
        EGOV_PROBE_REQUEST_LOG=str(record),
        EGOV_STATICFILES_STORAGE="django.contrib.staticfiles.storage.StaticFilesStorage",
    )
    gunicorn_log = folder / "gunicorn.log"
    with gunicorn_log.open("wb") as output:
        gunicorn = subprocess.Popen(
            [sys.executable, "-m", "tests.deploy.probe_app", "--bind", f"127.0.0.1:{upstream}"],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(upstream, gunicorn, gunicorn_log)
        configuration = nginx_configuration(folder, http=http, https=https, upstream=upstream)
        command = [str(NGINX), "-p", str(folder), "-c", str(configuration)]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, checked.stderr
        nginx_log = folder / "nginx.out"
        with nginx_log.open("wb") as output:
            nginx = subprocess.Popen(
                [*command, "-g", "daemon off;"], stdout=output, stderr=subprocess.STDOUT
            )
        try:
            wait_for_port(https, nginx, nginx_log)
            yield Front(https, http, folder / "egov.crt", record, folder, gunicorn_log)
        finally:
            stop(nginx)
    finally:
        stop(gunicorn)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]


def read_answer(connection: socket.socket) -> Answer:
    """One HTTP/1.1 answer: the header, then Content-Length bytes (or up to the close). It does
    not wait for the close after an answer with a length: after a 413 nginx keeps reading
    what the client still sends for a while before it closes."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines[1:]]
    lengths = [int(value) for key, value in headers if key.lower() == "content-length"]
    expected = lengths[0] if lengths else None
    while expected is None or len(body) < expected:
        chunk = connection.recv(65536)
        if not chunk:
            break
        body += chunk
    return Answer(int(lines[0].split()[1]), headers, body)  # type: ignore[arg-type]


def https_request(front: Front, request: bytes) -> Answer:
    with front.tls(timeout=5.0) as connection:
        connection.sendall(request)
        return read_answer(connection)


def get(front: Front, path: str, *extra_headers: str) -> Answer:
    headers = "".join(f"{header}\r\n" for header in extra_headers)
    request = f"GET {path} HTTP/1.1\r\nHost: {SERVER_NAME}\r\n{headers}Connection: close\r\n\r\n"
    return https_request(front, request.encode())


class SlowClient(threading.Thread):
    """Sends a request header one short line a second and never finishes it (slowloris)."""

    def __init__(self, front: Front, number: int) -> None:
        super().__init__(daemon=True)
        self.front, self.number = front, number
        self.connected = threading.Event()
        self.closed_after: float | None = None
        self.lines_sent = 0

    def run(self) -> None:
        started = time.monotonic()
        try:
            connection = self.front.tls(timeout=5.0)
        except OSError:
            self.closed_after = 0.0
            self.connected.set()
            return
        with connection:
            connection.settimeout(1.0)
            connection.sendall(
                f"GET /slow/{self.number} HTTP/1.1\r\nHost: {SERVER_NAME}\r\n".encode()
            )
            self.connected.set()
            while time.monotonic() - started < CUT_OFF_WITHIN + 5:
                try:
                    if connection.recv(1024) == b"":
                        break
                except TimeoutError:
                    pass
                except (OSError, ssl.SSLError):
                    break
                try:
                    connection.sendall(f"X-Slow-{self.lines_sent}: a\r\n".encode())
                    self.lines_sent += 1
                except (OSError, ssl.SSLError):
                    break
            else:
                return  # never cut off
        self.closed_after = time.monotonic() - started


def test_the_health_check_answers_through_nginx_while_slow_clients_hold_connections(front):
    slow = [SlowClient(front, number) for number in range(SLOW_CLIENTS)]
    for client in slow:
        client.start()
    for client in slow:
        assert client.connected.wait(10)
    time.sleep(3)  # every slow client has sent a few lines by now
    still_open = [client for client in slow if client.closed_after is None]

    answer = get(front, "/healthz")

    assert len(still_open) == SLOW_CLIENTS
    assert answer.status == 200
    assert json.loads(answer.body) == {"status": "ok"}

    # The contrast: nginx itself ends every slow connection after its header timeout.
    for client in slow:
        client.join(CUT_OFF_WITHIN + 10)
    assert [client.closed_after is not None for client in slow] == [True] * SLOW_CLIENTS
    assert min(client.lines_sent for client in slow) >= 3
    # ... and none of them ever reached gunicorn.
    assert [line for line in front.requests_seen() if "/slow/" in line] == []


def test_a_body_over_the_upload_limit_is_refused_by_nginx_before_gunicorn(front):
    request = (
        f"POST /api/v1/oversized-probe/ HTTP/1.1\r\nHost: {SERVER_NAME}\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {UPLOAD_LIMIT + 1}\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + b"x" * 1024

    answer = https_request(front, request)

    assert answer.status == 413
    assert get(front, "/healthz").status == 200  # gunicorn is up and records requests
    assert [line for line in front.requests_seen() if "oversized-probe" in line] == []


def test_a_body_within_the_limit_reaches_gunicorn(front):
    body = b"x" * (2 * 1024 * 1024)
    request = (
        f"POST /api/v1/sized-probe/ HTTP/1.1\r\nHost: {SERVER_NAME}\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + body

    https_request(front, request)

    # egov itself answers (whatever its API says of the path): nginx let the body through.
    assert "POST /api/v1/sized-probe/" in front.requests_seen()


def test_forwarded_headers_are_nginx_own_never_the_clients(front):
    answer = get(
        front,
        "/__probe/headers",
        "X-Forwarded-For: 203.0.113.66",
        "X-Real-IP: 203.0.113.66",
        "X-Forwarded-Proto: http",
        "X-Forwarded-Host: evil.example",
        "X-Forwarded-Ssl: off",
        "Forwarded: for=203.0.113.66;proto=http",
        "X-Request-ID: chosen-by-client",
    )

    assert answer.status == 200
    seen = json.loads(answer.body)
    assert seen["HTTP_X_FORWARDED_FOR"] == "127.0.0.1"
    assert seen["HTTP_X_REAL_IP"] == "127.0.0.1"
    assert seen["HTTP_X_FORWARDED_PROTO"] == "https"
    assert seen["wsgi.url_scheme"] == "https"
    assert seen["HTTP_HOST"] == SERVER_NAME
    assert len(seen["HTTP_X_REQUEST_ID"]) == 32
    assert seen["HTTP_X_REQUEST_ID"] != "chosen-by-client"
    for dropped in ("HTTP_FORWARDED", "HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_SSL"):
        assert dropped not in seen


def test_hsts_comes_once_from_django_and_the_server_version_is_not_told(front):
    answer = get(front, "/healthz")

    assert answer.header("Strict-Transport-Security") == [
        "max-age=31536000; includeSubDomains; preload"
    ]
    assert answer.header("Server") == ["nginx"]


def test_static_files_come_from_the_static_root_with_their_cache_lifetimes(front):
    hashed = get(front, "/static/egov/app.0123456789ab.css")
    plain = get(front, "/static/robots.txt")
    missing = get(front, "/static/egov/nothing.css")
    media = get(front, "/media/attachments/anything")

    assert (hashed.status, hashed.body) == (200, b"body{}")
    assert hashed.header("Cache-Control") == ["public, max-age=31536000, immutable"]
    assert hashed.header("X-Content-Type-Options") == ["nosniff"]
    assert (plain.status, plain.body) == (200, b"User-agent: *\n")
    assert plain.header("Cache-Control") == ["public, max-age=3600"]
    assert missing.status == 404
    assert media.status == 404
    assert [line for line in front.requests_seen() if "/static/" in line or "/media/" in line] == []


NAMES = {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}


def handshake(front: Front, context: ssl.SSLContext, server_name: str) -> str | None:
    with (
        socket.create_connection(("127.0.0.1", front.https_port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=server_name) as connection,
    ):
        return connection.version()


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
def test_only_tls_1_2_and_1_3_are_spoken(front):
    for old in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(str(front.certificate))
        context.minimum_version = context.maximum_version = old
        context.set_ciphers("ALL:@SECLEVEL=0")
        with pytest.raises(ssl.SSLError):
            handshake(front, context, SERVER_NAME)
    for version, name in NAMES.items():
        context = ssl.create_default_context(cafile=str(front.certificate))
        context.minimum_version = context.maximum_version = version
        assert handshake(front, context, SERVER_NAME) == name


def test_an_unknown_server_name_gets_no_answer(front):
    context = ssl.create_default_context(cafile=str(front.certificate))
    context.check_hostname = False
    with pytest.raises(ssl.SSLError):
        handshake(front, context, "other.example")


def test_plain_http_is_redirected_to_https(front):
    request = f"GET /be/services/?q=1 HTTP/1.1\r\nHost: {SERVER_NAME}\r\nConnection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", front.http_port), timeout=5) as connection:
        connection.sendall(request.encode())
        answer = read_answer(connection)

    assert answer.status == 301
    assert answer.header("Location") == [f"https://{SERVER_NAME}/be/services/?q=1"]


def test_gunicorn_logs_through_nginx_are_json_lines_with_request_ids(front):
    get(front, "/healthz")

    lines = [
        json.loads(line)
        for line in front.gunicorn_log.read_text(encoding="utf-8").splitlines()
        if line.startswith("{")
    ]
    finished = [line for line in lines if line.get("event") == "request_finished"]
    assert any(line["request"] == "GET healthz" and line["code"] == 200 for line in finished)
    assert all(len(str(line["request_id"])) == 36 for line in finished)
    assert all(len(str(line["edge_request_id"])) == 32 for line in finished)
    edge_ids = {str(line["edge_request_id"]) for line in finished}
    access_log = (front.folder / "egov-access.log").read_text(encoding="utf-8")
    assert edge_ids <= {line.split()[1] for line in access_log.splitlines()}
    assert "127.0.0.1" not in access_log
    assert "/healthz" not in access_log
    assert any(line.get("logger") == "gunicorn.error" for line in lines)
