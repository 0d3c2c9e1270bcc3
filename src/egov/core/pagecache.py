"""Whole-page caching of public pages for anonymous visitors.

Only a GET from a visitor with no session and no pending message is served from or stored in
the cache, and only a 200 response that sets no cookie is stored; everyone else gets the page
rendered for them. Keys carry a version per namespace, bumped after every write to what the
pages show, so an edit is visible at once (in every process when the cache is shared)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language

MESSAGE_COOKIE = "messages"


def version(namespace: str) -> int:
    return int(cache.get_or_set(f"pagecache:version:{namespace}", 1, timeout=None) or 1)


def bump(namespace: str) -> None:
    """Invalidate the namespace's pages once the current transaction commits."""

    def _bump() -> None:
        key = f"pagecache:version:{namespace}"
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 2, timeout=None)

    transaction.on_commit(_bump)


def _cacheable_request(request: HttpRequest) -> bool:
    return (
        settings.PAGE_CACHE_SECONDS > 0
        and request.method == "GET"
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and MESSAGE_COOKIE not in request.COOKIES
    )


def public_page(
    namespace: str, params: tuple[str, ...] = ()
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Cache the view's page for anonymous visitors. Only the query parameters in `params`
    make separate copies; a request with any other parameter is rendered, not cached, so
    junk query strings cannot fill the cache."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not _cacheable_request(request) or set(request.GET) - set(params):
                return view(request, *args, **kwargs)
            query = sorted((name, request.GET.getlist(name)) for name in request.GET)
            path = hashlib.sha256(repr((request.path, query)).encode()).hexdigest()
            variant = f"{get_language()}:{int(settings.DEMO_MODE)}"
            key = f"pagecache:{namespace}:{version(namespace)}:{variant}:{path}"
            cached = cache.get(key)
            if cached is not None:
                return HttpResponse(cached, content_type="text/html; charset=utf-8")
            response = view(request, *args, **kwargs)
            if (
                response.status_code == 200
                and not response.cookies
                and not request.user.is_authenticated
                and not getattr(response, "streaming", False)
            ):
                cache.set(key, response.content, timeout=settings.PAGE_CACHE_SECONDS)
            return response

        return wrapper

    return decorator


def session_page(
    data_version: Callable[[HttpRequest], str], timeout: int = 60
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Cache a signed-in person's page for their session while the data it shows is the same.

    ``data_version(request)`` must change whenever anything the page shows changes (for the
    back-office queue: the newest change to any of the agency's cases, read from the database
    so every process sees it at once). The key also holds the session (so a page, with its
    CSRF token, never reaches another login), the language, the day and the query string.
    A request with a message waiting is rendered, never cached."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            session_key = request.session.session_key
            if (
                settings.PAGE_CACHE_SECONDS <= 0
                or request.method != "GET"
                or not session_key
                or MESSAGE_COOKIE in request.COOKIES
            ):
                return view(request, *args, **kwargs)
            from django.utils import timezone

            query = hashlib.sha256(request.get_full_path().encode()).hexdigest()
            key = (
                "sessionpage:"
                + hashlib.sha256(
                    f"{session_key}:{data_version(request)}:{get_language()}:"
                    f"{timezone.localdate()}:{query}".encode()
                ).hexdigest()
            )
            cached = cache.get(key)
            if cached is not None:
                return HttpResponse(cached, content_type="text/html; charset=utf-8")
            response = view(request, *args, **kwargs)
            if response.status_code == 200 and not getattr(response, "streaming", False):
                cache.set(key, response.content, timeout=timeout)
            return response

        return wrapper

    return decorator
