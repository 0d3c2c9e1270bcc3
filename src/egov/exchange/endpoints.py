"""REST endpoints of a service and of an access right: ``{method, path}`` patterns.

A service lists its endpoints (X-Road's ``endpoint_list``), and an access right may narrow
itself to some of them (ADR 0008). A pattern's method is an HTTP method or ``*`` (any). Its
path starts with ``/``. A whole segment ``*`` matches exactly one non-empty segment; a ``*``
inside a segment (``img-*.png``) matches any characters but ``/``; a whole segment ``**``
matches any number of segments, none included. An empty list of patterns grants the whole
service.

A request's path is the part after the service code, as it arrived (percent-encoded). It is
matched DECODED, as the provider's server reads it (most decode ``%2F`` into ``/``): an
encoded ``/`` separates segments like a plain one, so ``*`` never covers it; only ``**`` or
a literal ``/`` does. Shared by the central registry (which validates patterns) and the
gateways (which match requests); no Django here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from urllib.parse import unquote

#: Methods a pattern may name; ``*`` stands for any of them.
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")
ANY = "*"
ANY_SEGMENTS = "**"
MAX_PATH_LENGTH = 1000
#: What a pattern's segment may hold besides ``*``: RFC 3986 path characters, decoded.
_SEGMENT_TEXT = re.compile(r"^[A-Za-z0-9\-._~!$&'()+,;=:@*]*$")


class EndpointError(ValueError):
    """An endpoint pattern is not valid; the message says why."""


def endpoint_validate(method: str, path: str) -> None:
    """Raise :class:`EndpointError` unless ``method`` and ``path`` form a valid pattern."""
    if method != ANY and method not in METHODS:
        raise EndpointError(f"method {method!r} is not one of {', '.join((ANY, *METHODS))}")
    if not isinstance(path, str) or not path.startswith("/"):
        raise EndpointError("the path must start with '/'")
    if len(path) > MAX_PATH_LENGTH:
        raise EndpointError(f"the path is longer than {MAX_PATH_LENGTH} characters")
    for segment in path[1:].split("/"):
        if segment in {".", ".."}:
            raise EndpointError("the path must not contain '.' or '..' segments")
        if ANY_SEGMENTS in segment and segment != ANY_SEGMENTS:
            raise EndpointError("'**' must be a whole segment")
        if not _SEGMENT_TEXT.match(segment):
            raise EndpointError(f"the segment {segment!r} has characters a path cannot hold")


@functools.lru_cache(maxsize=1024)
def _compile(path: str) -> tuple[re.Pattern[str] | None, ...]:
    """One regular expression per pattern segment; ``None`` for ``**``."""
    compiled: list[re.Pattern[str] | None] = []
    for segment in path[1:].split("/"):
        if segment == ANY_SEGMENTS:
            compiled.append(None)
        elif segment == ANY:
            compiled.append(re.compile(r"(?s:[^/]+)\Z"))
        else:
            parts = (re.escape(part) for part in segment.split(ANY))
            compiled.append(re.compile("(?s:" + "[^/]*".join(parts) + r")\Z"))
    return tuple(compiled)


def _segments_match(
    patterns: tuple[re.Pattern[str] | None, ...], segments: tuple[str, ...]
) -> bool:
    # Positions in the request a prefix of the pattern can reach (a small NFA walk: no
    # backtracking blow-up however many ``**`` a pattern has).
    reachable = {0}
    for pattern in patterns:
        if pattern is None:
            reachable = set(range(min(reachable), len(segments) + 1)) if reachable else set()
        else:
            reachable = {
                index + 1
                for index in reachable
                if index < len(segments) and pattern.match(segments[index])
            }
        if not reachable:
            return False
    return len(segments) in reachable


def request_segments(raw_path: str) -> tuple[str, ...]:
    """The segments of a request path after the service code, decoded first, so that an
    encoded ``/`` separates segments too (``""`` is ``/``)."""
    path = unquote(raw_path or "/", errors="replace")
    return tuple(path[1:].split("/"))


def endpoint_matches(endpoint: Mapping[str, str], method: str, raw_path: str) -> bool:
    """Whether one pattern covers ``method`` on ``raw_path`` (percent-encoded, after the
    service code)."""
    wanted = str(endpoint.get("method", ""))
    if wanted != ANY and wanted != method.upper():
        return False
    pattern = str(endpoint.get("path", ""))
    if not pattern.startswith("/"):
        return False
    return _segments_match(_compile(pattern), request_segments(raw_path))


def endpoints_allow(endpoints: Iterable[Mapping[str, str]], method: str, raw_path: str) -> bool:
    """Whether a list of patterns grants the call; an empty list grants the whole service."""
    patterns = list(endpoints)
    if not patterns:
        return True
    return any(endpoint_matches(endpoint, method, raw_path) for endpoint in patterns)
