"""The citizen- and business-facing pages: catalogue, search, account."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from egov.cases import selectors as cases
from egov.catalog import selectors as catalog
from egov.catalog.models import Audience
from egov.catalog.services import CATALOGUE_PAGES
from egov.core.pagecache import public_page
from egov.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD
from egov.exchange.client import ExchangeError, registry_present
from egov.identity import selectors as identity
from egov.identity import services as identity_services
from egov.identity.models import LevelOfAssurance, User, UserKind
from egov.notifications.selectors import inbox_unread_count


@require_safe
@public_page(CATALOGUE_PAGES)
def home(request: HttpRequest) -> HttpResponse:
    context = {
        "citizen_events": catalog.life_event_list(audience=Audience.CITIZENS),
        "business_events": catalog.life_event_list(audience=Audience.BUSINESSES),
        "categories": catalog.category_list(),
        "popular": catalog.popular_services(limit=6),
    }
    if settings.DEMO_MODE:
        context["demo_accounts"] = DEMO_ACCOUNTS
        context["demo_password"] = DEMO_PASSWORD
    return render(request, "portal/home.html", context)


@require_safe
@public_page(CATALOGUE_PAGES, params=("audience",))
def service_index(request: HttpRequest) -> HttpResponse:
    audience = request.GET.get("audience")
    if audience not in Audience.values:
        audience = None
    context = {
        "services": catalog.service_list(actor=request.user, audience=audience),
        "audience": audience,
        "audiences": Audience.choices,
        "categories": catalog.category_list(),
    }
    return render(request, "portal/service_index.html", context)


@require_safe
@public_page(CATALOGUE_PAGES)
def service_detail(request: HttpRequest, code: str) -> HttpResponse:
    service = catalog.service_get(code=code, actor=request.user)
    if service is None:
        raise Http404
    context = {
        "service": service,
        "fee": catalog.service_fee(service=service),
        "categories": list(service.categories.all()),
        "life_events": list(service.life_events.all()),
    }
    return render(request, "portal/service_detail.html", context)


@never_cache
def service_start(request: HttpRequest, code: str) -> HttpResponse:
    """The door to applying: it opens only at the level of assurance the service requires."""
    service = catalog.service_get(code=code, actor=request.user)
    if service is None or not service.can_apply_online:
        raise Http404
    here = request.get_full_path()
    if not request.user.is_authenticated:
        return redirect(f"{reverse('identity:login')}?{urlencode({'next': here})}")
    if not identity.session_meets(request=request, required=service.required_assurance):
        if service.required_assurance == LevelOfAssurance.HIGH:
            # Only a qualified signature or ID card proves "high"; a code from an app cannot,
            # so sending the person to the code step would loop. Say what is needed instead.
            return render(
                request, "portal/service_needs_high.html", {"service": service}, status=403
            )
        return redirect(f"{reverse('identity:step_up')}?{urlencode({'next': here})}")
    user = request.user
    assert isinstance(user, User)
    context = {
        "service": service,
        "assurance": identity.session_assurance(request=request),
        "fee": catalog.service_fee(service=service),
        "version": catalog.service_version_published(service=service),
        "drafts": cases.drafts_of(actor=user).filter(version__service=service),
        "representations": identity.representation_list(actor=user),
    }
    return render(request, "portal/service_start.html", context)


@require_safe
@public_page(CATALOGUE_PAGES, params=("q",))
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    cut = len(query) > catalog.MAX_QUERY_LENGTH
    query = query[: catalog.MAX_QUERY_LENGTH].strip()
    results = catalog.service_search(query=query, actor=request.user) if query else []
    error = None
    if "q" in request.GET and not query:
        error = _("Enter the name of a service or a few words about what you need")
    context = {
        "query": query,
        "results": results,
        "cut": cut,
        "error": error,
        "max_length": catalog.MAX_QUERY_LENGTH,
    }
    return render(request, "portal/search.html", context)


@require_safe
@public_page(CATALOGUE_PAGES)
def life_event_index(request: HttpRequest) -> HttpResponse:
    context = {
        "citizen_events": catalog.life_event_list(audience=Audience.CITIZENS),
        "business_events": catalog.life_event_list(audience=Audience.BUSINESSES),
    }
    return render(request, "portal/life_event_index.html", context)


@require_safe
@public_page(CATALOGUE_PAGES)
def life_event_detail(request: HttpRequest, slug: str) -> HttpResponse:
    event = catalog.life_event_get(slug=slug)
    if event is None:
        raise Http404
    services = catalog.service_list(actor=request.user, life_event=event)
    return render(request, "portal/life_event_detail.html", {"event": event, "services": services})


@require_safe
@public_page(CATALOGUE_PAGES)
def category_detail(request: HttpRequest, slug: str) -> HttpResponse:
    category = catalog.category_get(slug=slug)
    if category is None:
        raise Http404
    services = catalog.service_list(actor=request.user, category=category)
    return render(
        request, "portal/category_detail.html", {"category": category, "services": services}
    )


@require_safe
@public_page(CATALOGUE_PAGES)
def agency_index(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/agency_index.html", {"agencies": catalog.agency_list()})


@require_safe
@public_page(CATALOGUE_PAGES)
def agency_detail(request: HttpRequest, code: str) -> HttpResponse:
    agency = catalog.agency_get(code=code)
    if agency is None:
        raise Http404
    services = catalog.service_list(actor=request.user, agency=agency)
    return render(request, "portal/agency_detail.html", {"agency": agency, "services": services})


@login_required
@never_cache
@require_safe
def account(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    context = {
        "assurance": identity.session_assurance(request=request),
        "has_second_factor": identity.has_second_factor(actor=user),
        "representations": identity.representation_list(actor=user),
        "unread": inbox_unread_count(actor=user),
        # A country without a legal entities register has no director rights to check.
        "legal_entities_register": registry_present("legal_entities"),
    }
    return render(request, "portal/account.html", context)


@login_required
@require_POST
def representations_refresh(request: HttpRequest) -> HttpResponse:
    """Ask the legal entities register again which organisations the person directs."""
    user = request.user
    assert isinstance(user, User)
    if user.kind != UserKind.BUSINESS or not user.personal_number:
        raise Http404
    if not registry_present("legal_entities"):
        return redirect("portal:account")  # no register to ask: nothing to refresh
    try:
        identity_services.representations_refresh(user=user)
    except ExchangeError:
        messages.error(
            request,
            _(
                "We cannot reach the legal entities register at the moment. The organisations "
                "below are as they were. Try again later."
            ),
        )
    else:
        messages.success(
            request, _("The organisations you direct have been updated from the register.")
        )
    return redirect("portal:account")


STATIC_PAGES = {"accessibility", "privacy", "cookies"}


@require_safe
def static_page(request: HttpRequest, page: str) -> HttpResponse:
    if page not in STATIC_PAGES:
        raise Http404
    return render(request, f"portal/pages/{page}.html")
