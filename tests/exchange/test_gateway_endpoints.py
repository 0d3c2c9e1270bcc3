"""Rights per REST endpoint (ADR 0008): enforced by the provider's gateway, checked early
by the client's; a call outside the granted endpoints is ``Server.ServerProxy.AccessDenied``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.exchange.harness import (
    CHECK,
    ECHO,
    OFFICE,
    PORTAL,
    PREFILL,
    Stack,
    direct,
    header,
    signed_headers,
)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    running = Stack(tmp_path).start()
    running.withdraw(PORTAL, ECHO)
    running.grant(PORTAL, ECHO, endpoints=[{"method": "GET", "path": "/allowed/*"}])
    running.serial += 1
    running.refresh()
    yield running
    running.stop()


def refusal(response) -> tuple[int, str, str]:
    body = json.loads(response.data)
    assert response.headers["X-Road-Error"] == body["type"]
    return response.status, body["type"], body["message"]


def test_call_inside_the_granted_endpoints_passes(stack: Stack) -> None:
    response = stack.call("/r1/BY/GOV/MVD/population/echo/allowed/17?full=1")

    assert response.status == 200
    assert [call["path"] for call in stack.recorder.calls] == ["/echo/allowed/17?full=1"]


@pytest.mark.parametrize(
    ("method", "path", "shown"),
    [
        ("POST", "/allowed/17", "POST /allowed/17"),
        ("GET", "/allowed/17/more", "GET /allowed/17/more"),
        ("GET", "/other", "GET /other"),
        ("GET", "", "GET /"),
    ],
)
def test_call_outside_the_granted_endpoints_is_refused_before_it_leaves(
    stack: Stack, method: str, path: str, shown: str
) -> None:
    response = stack.call(f"/r1/BY/GOV/MVD/population/echo{path}", method=method)

    assert refusal(response) == (
        500,
        "Server.ServerProxy.AccessDenied",
        f"{PORTAL} has no right to {shown} of {ECHO}",
    )
    assert stack.recorder.calls == []
    assert stack.log_records("GW-B") == []


def test_signed_request_outside_the_endpoints_is_refused_by_the_provider_alone(
    stack: Stack,
) -> None:
    path = "/r1/BY/GOV/MVD/population/echo/other"
    headers = signed_headers(stack, "GW-A", "GET", path, {"X-Road-Client": PORTAL})

    response = direct(stack, "GW-A-tls", "GET", path, headers)

    assert refusal(response) == (
        500,
        "Server.ServerProxy.AccessDenied",
        f"{PORTAL} has no right to GET /other of {ECHO}",
    )
    assert stack.recorder.calls == []
    assert stack.log_records("GW-B") == []


def test_purposes_are_those_of_the_right_covering_the_endpoint(stack: Stack) -> None:
    stack.grant(OFFICE, ECHO, endpoints=[{"method": "GET", "path": "/read/**"}], purposes=[CHECK])
    stack.grant(OFFICE, ECHO, endpoints=[{"method": "POST", "path": "/write"}], purposes=[PREFILL])
    stack.serial += 1
    stack.refresh()

    read = stack.call("/r1/BY/GOV/MVD/population/echo/read/a/b", client=OFFICE)
    write = stack.call("/r1/BY/GOV/MVD/population/echo/write", client=OFFICE, method="POST")
    wrong = stack.call(
        "/r1/BY/GOV/MVD/population/echo/read/a",
        client=OFFICE,
        headers={"X-Egov-Purpose": "prefill"},
    )

    assert (read.status, write.status) == (200, 200)
    assert [
        json.loads(header(call["headers"], "x-egov-purposes")) for call in stack.recorder.calls
    ] == [
        [CHECK],
        [PREFILL],
    ]
    assert refusal(wrong)[:2] == (400, "Client.InvalidPurpose")


def test_allowed_methods_lists_the_granted_endpoints(stack: Stack) -> None:
    response = stack.call("/r1/BY/GOV/MVD/population/allowedMethods")
    listed = {
        item["service_code"]: item["endpoint_list"] for item in json.loads(response.data)["service"]
    }

    assert listed == {
        "person": [{"method": "GET", "path": "/*"}],
        "echo": [{"method": "GET", "path": "/allowed/*"}],
    }


LICENCES = [{"method": "GET", "path": "/licences/*"}]


@pytest.mark.parametrize("rest", ["/licences/", "/licences/AB%2Fholder", "/licences/a/b"])
def test_one_segment_right_covers_neither_an_empty_segment_nor_an_encoded_slash(
    stack: Stack, rest: str
) -> None:
    stack.grant(OFFICE, ECHO, endpoints=LICENCES)
    stack.serial += 1
    stack.refresh()
    path = f"/r1/BY/GOV/MVD/population/echo{rest}"
    expected = (
        500,
        "Server.ServerProxy.AccessDenied",
        f"{OFFICE} has no right to GET {rest} of {ECHO}",
    )

    early = stack.call(path, client=OFFICE)
    headers = signed_headers(stack, "GW-A", "GET", path, {"X-Road-Client": OFFICE})
    provider = direct(stack, "GW-A-tls", "GET", path, headers)

    assert refusal(early) == expected
    assert refusal(provider) == expected
    assert stack.recorder.calls == []
    assert stack.log_records("GW-B") == []


def test_one_segment_right_covers_one_non_empty_segment(stack: Stack) -> None:
    stack.grant(OFFICE, ECHO, endpoints=LICENCES)
    stack.serial += 1
    stack.refresh()

    response = stack.call("/r1/BY/GOV/MVD/population/echo/licences/AB1", client=OFFICE)

    assert response.status == 200
    assert [call["path"] for call in stack.recorder.calls] == ["/echo/licences/AB1"]
