"""``{% signer_script %}``: what a page needs to use ``egovSigner`` (static/egov/signer.js):
the signer's address and the translated messages as a JSON block, then the script."""

from __future__ import annotations

from django import template
from django.conf import settings
from django.templatetags.static import static
from django.utils.html import format_html, json_script
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext as _

register = template.Library()


def signer_messages() -> dict[str, str]:
    return {
        "not_running": _(
            "egov signer is not running on this computer. Start it and try again: in the "
            "demo, make demo starts it; otherwise run egov signer --pkcs12 YOUR-E-ID.p12 "
            "(or --pkcs11-module with --token for an ID card)."
        ),
        "no_eid": _(
            "The signer has no e-ID. Start it with your e-ID file: egov signer --pkcs12 FILE."
        ),
        "origin_not_allowed": _(
            "The signer does not accept requests from this site. Start it with "
            "--allow-origin and this site's address."
        ),
        "popup_blocked": _(
            "The browser did not open the signer's window. Allow pop-up windows for this "
            "site, or open the signer's page with the link below."
        ),
        "refused": _("You refused in the signer: nothing was signed."),
        "expired": _("The signer's request expired before it was answered. Try again."),
        "failed": _("The signer could not do it. Try again."),
        "login_description": _("Log in to the portal"),
    }


@register.simple_tag
def signer_script() -> SafeString:
    config = {
        "url": settings.SIGNER_URL,
        "language": get_language() or "",
        "messages": signer_messages(),
    }
    return SafeString(
        json_script(config, "egov-signer-config")
        + format_html('<script src="{}"></script>', static("egov/signer.js"))
    )
