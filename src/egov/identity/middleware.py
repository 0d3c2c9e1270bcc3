"""Idle and absolute session limits, shorter for officials and admins."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from egov.identity.services import SESSION_LOGIN_AT, SESSION_SEEN_AT

# Writing the session on every request costs a database write; a minute's precision is enough.
SEEN_RESOLUTION_SECONDS = 60


class SessionLifetimeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            expired = self._expired(request)
            if expired:
                logout(request)
                if request.path.startswith("/api/"):
                    # An API client is answered by the API: now unauthenticated, a 401.
                    return self.get_response(request)
                messages.info(request, expired)
                query = urlencode({"next": request.get_full_path()})
                return redirect(f"{reverse('identity:login')}?{query}")
        return self.get_response(request)

    def _expired(self, request: HttpRequest) -> str | None:
        now = timezone.now().timestamp()
        group = "staff" if request.user.is_staff_kind else "public"  # type: ignore[union-attr]
        idle = settings.SESSION_IDLE_MINUTES[group]
        absolute = settings.SESSION_ABSOLUTE_MINUTES[group]
        session = request.session
        login_at = session.setdefault(SESSION_LOGIN_AT, now)
        seen_at = session.get(SESSION_SEEN_AT, now)
        if now - seen_at > idle * 60:
            return _(
                "You were logged out after %(minutes)d minutes without activity, to protect "
                "your data. Log in again to continue."
            ) % {"minutes": idle}
        if now - login_at > absolute * 60:
            return _(
                "Your session reached its maximum length of %(hours)s hours. Log in again "
                "to continue."
            ) % {"hours": f"{absolute / 60:g}"}
        if now - seen_at >= SEEN_RESOLUTION_SECONDS or SESSION_SEEN_AT not in session:
            session[SESSION_SEEN_AT] = now
        return None
