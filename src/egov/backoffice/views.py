"""The agencies' back office. Every page is for officials only, and only for their agency."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from egov.catalog import selectors as catalog
from egov.identity import selectors as identity
from egov.identity.models import LevelOfAssurance, User, UserKind


def official_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Logged in, an official, and verified with the second factor in this session."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('identity:login')}?{query}")
        if request.user.kind != UserKind.OFFICIAL:
            raise PermissionDenied
        if not identity.session_meets(request=request, required=LevelOfAssurance.SUBSTANTIAL):
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('identity:step_up')}?{query}")
        return view(request, *args, **kwargs)

    return wrapper


@official_required
@never_cache
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User) and user.agency is not None
    context = {"agency": user.agency, "services": catalog.agency_services(agency=user.agency)}
    return render(request, "backoffice/home.html", context)
