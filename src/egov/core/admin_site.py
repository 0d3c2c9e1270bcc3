"""The Django admin for platform administrators: reachable only after the second factor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminSite


class AutocompleteView(AutocompleteJsonView):
    """The admin's autocomplete: what a search finds, by name, for any foreign key to a model
    with search fields (the request names the field; no admin needs to use it). The objects
    shown are handed to their model admin's ``autocomplete_shown(request, objects)`` when it
    has one: a register's admin records the people shown, as on its other pages."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        shown = getattr(self.model_admin, "autocomplete_shown", None)
        if shown is not None:
            objects = list(context["object_list"])  # the page's rows, read once
            context["object_list"] = objects
            shown(self.request, objects)
        return context


class PlatformAdminSite(OTPAdminSite):
    site_header = _("Platform administration")
    site_title = _("Platform administration")
    index_title = _("Catalogue, agencies and accounts")

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """One login page for everybody: the portal's, with its second-factor step."""
        next_url = request.GET.get("next") or reverse("admin:index")
        return redirect(f"{reverse('identity:login')}?{urlencode({'next': next_url})}")

    def autocomplete_view(self, request: HttpRequest) -> HttpResponseBase:
        return AutocompleteView.as_view(admin_site=self)(request)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Pages without a model that apps' admin modules add: (route, view, name).
        self.extra_views: list[tuple[str, Callable[..., HttpResponseBase], str]] = []

    def get_urls(self) -> list[URLPattern | URLResolver]:
        extra: list[URLPattern | URLResolver] = [
            path(route, self.admin_view(view), name=name) for route, view, name in self.extra_views
        ]
        return extra + super().get_urls()


admin_site = PlatformAdminSite(name="admin")
