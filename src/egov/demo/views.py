from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from egov.demo.mailbox import demo_messages
from egov.notifications.sms.contrib.loopback.provider import loopback_messages


@never_cache
@require_safe
def mailbox(request: HttpRequest) -> HttpResponse:
    """Exists only in demo mode: production mail goes to people's real inboxes."""
    if not settings.DEMO_MODE:
        raise Http404
    context = {"messages_sent": demo_messages(), "sms_sent": loopback_messages()[:50]}
    return render(request, "demo/mailbox.html", context)
