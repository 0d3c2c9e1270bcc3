"""The Django admin for platform administrators: reachable only after the second factor."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminSite


class PlatformAdminSite(OTPAdminSite):
    site_header = _("Platform administration")
    site_title = _("Platform administration")
    index_title = _("Catalogue, agencies and accounts")

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """One login page for everybody: the portal's, with its second-factor step."""
        next_url = request.GET.get("next") or reverse("admin:index")
        return redirect(f"{reverse('identity:login')}?{urlencode({'next': next_url})}")


admin_site = PlatformAdminSite(name="admin")
