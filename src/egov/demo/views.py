from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from egov.demo.mailbox import demo_messages


@never_cache
@require_safe
def mailbox(request: HttpRequest) -> HttpResponse:
    """Exists only in demo mode: production mail goes to people's real inboxes."""
    if not settings.DEMO_MODE:
        raise Http404
    return render(request, "demo/mailbox.html", {"messages_sent": demo_messages()})
