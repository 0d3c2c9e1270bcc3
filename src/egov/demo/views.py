from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from egov.core.admin_site import admin_site
from egov.demo.mailbox import demo_messages
from egov.notifications.sms.contrib.loopback.provider import loopback_messages

MAX_TEXT_MESSAGES = 50


def _text_messages(request: HttpRequest) -> list[dict[str, str]]:
    """All of them for a platform administrator; otherwise those to the phone number of the
    account the visitor is logged in to (each of them shows a phone number and an
    application's news)."""
    if admin_site.has_permission(request):
        return loopback_messages()[:MAX_TEXT_MESSAGES]
    phone = getattr(request.user, "phone", "") if request.user.is_authenticated else ""
    if not phone:
        return []
    return [sms for sms in loopback_messages() if sms["to"] == phone][:MAX_TEXT_MESSAGES]


@never_cache
@require_safe
def mailbox(request: HttpRequest) -> HttpResponse:
    """Exists only in demo mode: production mail goes to people's real inboxes."""
    if not settings.DEMO_MODE:
        raise Http404
    context = {
        "messages_sent": demo_messages(request=request),
        "sms_sent": _text_messages(request),
        "sees_everything": admin_site.has_permission(request),
    }
    return render(request, "demo/mailbox.html", context)
