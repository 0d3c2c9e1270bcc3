"""Endpoint patterns of services and access rights: method, ``*`` in a segment, ``**``."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from egov.exchange.endpoints import (
    EndpointError,
    endpoint_matches,
    endpoint_validate,
    endpoints_allow,
)


@pytest.mark.parametrize(
    ("pattern", "method", "path", "expected"),
    [
        (("GET", "/*"), "GET", "/4150592M012PB5", True),
        (("GET", "/*"), "get", "/4150592M012PB5", True),
        (("GET", "/*"), "POST", "/4150592M012PB5", False),
        (("*", "/*"), "DELETE", "/4150592M012PB5", True),
        (("GET", "/*"), "GET", "/a/b", False),
        # A whole-segment '*' is one non-empty segment: not the empty one of '/'.
        (("GET", "/*"), "GET", "", False),
        (("GET", "/licences/*"), "GET", "/licences/", False),
        (("GET", "/licences/*"), "GET", "/licences/AB1", True),
        (("GET", "/x-*"), "GET", "/x-", True),
        (("GET", "/"), "GET", "", True),
        (("GET", "/"), "GET", "/x", False),
        (("GET", "/pets/*/images"), "GET", "/pets/17/images", True),
        (("GET", "/pets/*/images"), "GET", "/pets/17/18/images", False),
        (("GET", "/pets/img-*.png"), "GET", "/pets/img-1.png", True),
        (("GET", "/pets/img-*.png"), "GET", "/pets/img-1.jpg", False),
        (("GET", "/**"), "GET", "", True),
        (("GET", "/**"), "GET", "/a/b/c", True),
        (("GET", "/a/**"), "GET", "/a", True),
        (("GET", "/a/**"), "GET", "/a/b/c", True),
        (("GET", "/a/**"), "GET", "/b/a", False),
        (("GET", "/a/**/z"), "GET", "/a/z", True),
        (("GET", "/a/**/z"), "GET", "/a/b/c/z", True),
        (("GET", "/a/**/z"), "GET", "/a/b/c/y", False),
        (("GET", "/a/**/**/z"), "GET", "/a/b/z", True),
        # Matched decoded, as the provider reads it: an encoded '/' separates segments, so
        # '*' does not cover it; '**' and a literal '/' do.
        (("GET", "/files/*"), "GET", "/files/a%2Fb", False),
        (("GET", "/files/a*"), "GET", "/files/a%2Fb", False),
        (("GET", "/files/**"), "GET", "/files/a%2Fb", True),
        (("GET", "/files/a/b"), "GET", "/files/a%2Fb", True),
        (("GET", "/files/ab"), "GET", "/files/%61b", True),
    ],
)
def test_pattern_matches_method_and_segments(
    pattern: tuple[str, str], method: str, path: str, expected: bool
) -> None:
    method_pattern, path_pattern = pattern

    assert endpoint_matches({"method": method_pattern, "path": path_pattern}, method, path) is (
        expected
    )


def test_empty_list_grants_the_whole_service_and_any_match_grants() -> None:
    patterns = [{"method": "GET", "path": "/a"}, {"method": "POST", "path": "/b"}]

    assert endpoints_allow([], "DELETE", "/anything/at/all") is True
    assert endpoints_allow(patterns, "POST", "/b") is True
    assert endpoints_allow(patterns, "GET", "/b") is False


@pytest.mark.parametrize(
    ("method", "path", "message"),
    [
        ("FETCH", "/a", "method 'FETCH' is not one of"),
        ("get", "/a", "method 'get' is not one of"),
        ("GET", "a", "must start with '/'"),
        ("GET", "/a/../b", "'.' or '..'"),
        ("GET", "/a/**b", "'**' must be a whole segment"),
        ("GET", "/a b", "has characters"),
        ("GET", "/a%2Fb", "has characters"),
        ("GET", "/{id}", "has characters"),
        ("GET", "/" + "a" * 1000, "longer than 1000"),
    ],
)
def test_invalid_patterns_are_refused_with_the_reason(method: str, path: str, message: str) -> None:
    with pytest.raises(EndpointError, match=message.replace("(", r"\(").replace("*", r"\*")):
        endpoint_validate(method, path)


@pytest.mark.parametrize(
    ("method", "path"), [("*", "/"), ("GET", "/*"), ("POST", "/a/**/b"), ("PUT", "/x-*.json")]
)
def test_valid_patterns_pass(method: str, path: str) -> None:
    endpoint_validate(method, path)


SEGMENT = st.text(alphabet="abc-.%2F", min_size=0, max_size=6)


@given(st.lists(SEGMENT, min_size=1, max_size=6))
def test_double_star_matches_every_path_and_the_path_itself_matches(segments: list[str]) -> None:
    path = "/" + "/".join(segments)

    assert endpoint_matches({"method": "*", "path": "/**"}, "GET", path)


@given(st.lists(st.text(alphabet="abc-.", min_size=1, max_size=5), min_size=1, max_size=5))
def test_literal_pattern_matches_exactly_its_own_path(segments: list[str]) -> None:
    path = "/" + "/".join(segments)
    other = path + "x"

    assert endpoint_matches({"method": "GET", "path": path}, "GET", path)
    assert not endpoint_matches({"method": "GET", "path": path}, "GET", other)
    assert endpoint_matches(
        {"method": "GET", "path": "/" + "/".join("*" for _ in segments)}, "GET", path
    )
