"""Forwarded headers count only on connections from the trusted proxies (EGOV_TRUSTED_PROXIES):
a client that reaches the web server directly cannot claim HTTPS, another address or a request
id (ADR 0009)."""

from __future__ import annotations

import ipaddress

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from gunicorn.config import Config
from gunicorn.http.message import _ip_in_allow_list

from egov.core.proxies import FORWARDED_HEADERS, TrustedProxyMiddleware, address_trusted
from egov.core.server import gunicorn_options

HSTS = "max-age=31536000; includeSubDomains; preload"
CLIENT = "203.0.113.9"
FORWARDED = {
    "HTTP_X_FORWARDED_PROTO": "https",
    "HTTP_X_FORWARDED_FOR": "198.51.100.7",
    "HTTP_X_FORWARDED_HOST": "evil.example",
    "HTTP_X_REAL_IP": "198.51.100.7",
    "HTTP_X_REQUEST_ID": "0123456789abcdef0123456789abcdef",
    "HTTP_FORWARDED": "for=198.51.100.7;proto=https",
}


@pytest.fixture
def https_only(settings):  # type: ignore[no-untyped-def]
    """The production security settings (the tests run with EGOV_INSECURE_HTTP)."""
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.TRUSTED_PROXIES = []
    return settings


def test_a_direct_plain_request_claiming_https_is_redirected_and_gets_no_hsts(client, https_only):
    page = client.get("/en/", REMOTE_ADDR=CLIENT, HTTP_X_FORWARDED_PROTO="https")
    health = client.get("/healthz", REMOTE_ADDR=CLIENT, HTTP_X_FORWARDED_PROTO="https")

    assert page.status_code == 301
    assert page["Location"] == "https://testserver/en/"
    assert health.status_code == 200
    assert "Strict-Transport-Security" not in health


@pytest.mark.django_db
def test_the_same_request_from_a_trusted_proxy_is_https(client, https_only):
    https_only.TRUSTED_PROXIES = ["10.0.0.5", "203.0.113.0/24"]

    page = client.get("/en/", REMOTE_ADDR=CLIENT, HTTP_X_FORWARDED_PROTO="https")
    health = client.get("/healthz", REMOTE_ADDR=CLIENT, HTTP_X_FORWARDED_PROTO="https")

    assert page.status_code == 200
    assert page.wsgi_request.is_secure()
    assert health["Strict-Transport-Security"] == HSTS


def _seen(remote_addr: str, settings) -> dict[str, str]:  # type: ignore[no-untyped-def]
    request = RequestFactory().get("/", REMOTE_ADDR=remote_addr, **FORWARDED)
    seen: dict[str, str] = {}

    def view(request: HttpRequest) -> HttpResponse:
        seen.update(
            {name: request.META[name] for name in FORWARDED_HEADERS if name in request.META}
        )
        return HttpResponse()

    TrustedProxyMiddleware(view)(request)
    return seen


@pytest.mark.parametrize(
    ("trusted", "remote_addr", "kept"),
    [
        ([], "127.0.0.1", False),  # empty trusts no one, loopback included
        (["127.0.0.1"], "127.0.0.1", True),
        (["127.0.0.1"], "::ffff:127.0.0.1", True),  # a dual-stack listener's IPv4 client
        (["127.0.0.1"], "127.0.0.2", False),
        (["10.1.0.0/16"], "10.1.200.3", True),
        (["10.1.0.0/16"], "10.2.0.1", False),
        (["2001:db8::/32"], "2001:db8:7::1", True),
        (["127.0.0.1"], "", False),  # no address (a Unix socket)
        (["127.0.0.1"], "not-an-address", False),
    ],
)
def test_forwarded_headers_are_kept_only_from_a_trusted_address(
    settings, trusted, remote_addr, kept
):
    settings.TRUSTED_PROXIES = trusted

    assert _seen(remote_addr, settings) == (FORWARDED if kept else {})


def test_addresses_and_networks_are_matched_as_networks():
    assert address_trusted("192.0.2.77", ["192.0.2.0/25"])
    assert not address_trusted("192.0.2.200", ["192.0.2.0/25"])
    assert not address_trusted("192.0.2.77", [])


@pytest.mark.parametrize(
    ("trusted", "expected"),
    [
        ([], []),
        (
            ["127.0.0.1", "10.0.0.0/8"],
            ["127.0.0.1", "::ffff:127.0.0.1", "10.0.0.0/8", "::ffff:10.0.0.0/104"],
        ),
    ],
)
def test_gunicorn_trusts_the_same_proxies_and_no_one_by_default(settings, trusted, expected):
    settings.TRUSTED_PROXIES = trusted
    config = Config()

    config.set("forwarded_allow_ips", gunicorn_options(bind="127.0.0.1:1")["forwarded_allow_ips"])

    assert [ipaddress.ip_network(entry) for entry in config.forwarded_allow_ips] == [
        ipaddress.ip_network(entry) for entry in expected
    ]
    assert "*" not in config.forwarded_allow_ips


#: EGOV_TRUSTED_PROXIES as an operator may write it: spaces, an empty entry, a mapped address.
WRITTEN = "127.0.0.1, ,10.1.0.0/16 , ::ffff:192.0.2.5,2001:db8::/32,"


@pytest.mark.parametrize(
    "remote_addr",
    [
        "127.0.0.1",
        "::ffff:127.0.0.1",
        "127.0.0.2",
        "10.1.200.3",
        "::ffff:10.1.200.3",
        "10.2.0.1",
        "192.0.2.5",
        "::ffff:192.0.2.5",
        "192.0.2.6",
        "2001:db8:7::1",
        "2001:db9::1",
        "::1",
    ],
)
def test_gunicorn_and_the_middleware_trust_the_same_connections(settings, remote_addr):
    """Where gunicorn trusts a connection the middleware does not, gunicorn's scheme would
    make a request HTTPS that the middleware stripped of X-Forwarded-Proto."""
    settings.TRUSTED_PROXIES = WRITTEN.split(",")
    config = Config()

    config.set("forwarded_allow_ips", gunicorn_options(bind="127.0.0.1:1")["forwarded_allow_ips"])
    by_gunicorn = _ip_in_allow_list(
        remote_addr, config.forwarded_allow_ips, config.forwarded_allow_networks()
    )

    assert by_gunicorn == address_trusted(remote_addr, settings.TRUSTED_PROXIES)
