"""The PKI in the platform's admin: the issued certificates, and revoking one with a reason.

A page of its own (the PKI index is a file, not a model), reached only by platform
administrators after their second factor, as every admin page. A revocation is seen by the
OCSP responder and by validation at once, and is recorded in the audit ledger.
"""

from __future__ import annotations

from typing import Any

from cryptography import x509
from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from egov.core.admin_site import admin_site
from egov.trust.keys import pki_directory
from egov.trust.pki import PkiError, certificates_list
from egov.trust.setup import platform_certificate_revoke

#: RFC 5280 reasons an administrator may give (removeFromCRL is for delta CRLs only).
REASON_CHOICES = [
    ("unspecified", gettext_lazy("Unspecified")),
    ("key_compromise", gettext_lazy("Key compromise")),
    ("affiliation_changed", gettext_lazy("Affiliation changed")),
    ("superseded", gettext_lazy("Superseded")),
    ("cessation_of_operation", gettext_lazy("Cessation of operation")),
    ("certificate_hold", gettext_lazy("Certificate hold")),
    ("privilege_withdrawn", gettext_lazy("Privilege withdrawn")),
]
assert all(name in x509.ReasonFlags.__members__ for name, _label in REASON_CHOICES)


class RevokeForm(forms.Form):
    serial = forms.CharField(max_length=60)
    reason = forms.ChoiceField(choices=REASON_CHOICES, label=gettext_lazy("Reason"))

    def clean_serial(self) -> int:
        try:
            return int(self.cleaned_data["serial"])
        except ValueError:
            raise forms.ValidationError(_("Choose a certificate from the list.")) from None


def certificates_view(request: HttpRequest) -> HttpResponse:
    directory = pki_directory()
    if request.method == "POST":
        form = RevokeForm(request.POST)
        if form.is_valid():
            try:
                entry = platform_certificate_revoke(
                    serial=form.cleaned_data["serial"],
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                )
            except PkiError as error:
                messages.error(
                    request, _("The certificate was not revoked: %(error)s") % {"error": error}
                )
            else:
                messages.success(
                    request,
                    _("The certificate %(name)s is revoked.") % {"name": entry.get("name", "")},
                )
            return redirect("admin:trust_certificates")
        messages.error(request, _("Choose a certificate and a reason."))
    try:
        entries = list(reversed(certificates_list(directory=directory)))
    except (OSError, ValueError):
        entries = []
    context: dict[str, Any] = {
        **admin_site.each_context(request),
        "title": _("Certificates"),
        "entries": [
            {
                **entry,
                "serial_text": str(entry["serial"]),
                "serial_hex": f"{int(entry['serial']):x}",
            }
            for entry in entries
        ],
        "reasons": REASON_CHOICES,
        "initialised": (directory / "issuing.cert.pem").exists(),
    }
    return TemplateResponse(request, "trust/admin/certificates.html", context)


admin_site.extra_views.append(("trust/certificates/", certificates_view, "trust_certificates"))
